"""All 25 targets per study: the submission layout, the training prior and the flags."""

from __future__ import annotations

import numpy as np
import pandas as pd

from disc_grade.inference.grading import NO_GRADER, graded_rows, target_table
from disc_grade.inference.studies import submission_rows
from disc_grade.rsna import CONDITIONS, LEVELS, PROB_COLUMNS

# the 25 row ids of one study in the RSNA sample_submission.csv, written out by hand
SAMPLE_SUBMISSION_ROWS = [
    f"44036939_{condition}_{level}"
    for condition in (
        "spinal_canal_stenosis",
        "left_neural_foraminal_narrowing",
        "right_neural_foraminal_narrowing",
        "left_subarticular_stenosis",
        "right_subarticular_stenosis",
    )
    for level in ("l1_l2", "l2_l3", "l3_l4", "l4_l5", "l5_s1")
]
PRIOR = pd.DataFrame(
    {
        "condition": list(CONDITIONS),
        "p_normal_mild": [0.8, 0.7, 0.7, 0.5, 0.5],
        "p_moderate": [0.1, 0.2, 0.2, 0.3, 0.3],
        "p_severe": [0.1, 0.1, 0.1, 0.2, 0.2],
    }
)
NAMES = {c: c.split("_")[-2] if "subarticular" not in c else "subarticular" for c in CONDITIONS}


def _canal(study_ids) -> pd.DataFrame:
    """The canal's graded rows: every level graded but L2/L3 of each study, flagged."""
    keys = [(s, lv) for s in study_ids for lv in LEVELS]
    found = [(s, lv) for s, lv in keys if lv != "l2_l3"]
    index = pd.DataFrame(
        {
            "study_id": [s for s, _ in found],
            "condition": "spinal_canal_stenosis",
            "level": [lv for _, lv in found],
            "series_id": 1,
            "slice_rank": 0,
            "x": 0.0,
            "y": 0.0,
            "peak": 1.0,
        }
    )
    probs = np.tile([0.1, 0.2, 0.7], (len(found), 1))
    index = index.assign(**dict(zip(PROB_COLUMNS, probs.T, strict=True)), predicted=2)
    flagged = pd.DataFrame(
        {
            "study_id": list(study_ids),
            "condition": "spinal_canal_stenosis",
            "level": "l2_l3",
            "reason": "no confident target",
        }
    )
    return graded_rows(index, flagged, "contrastive")


def test_submission_matches_the_sample_submission_layout():
    table = target_table([44036939, 2**31 + 7], [_canal([44036939, 2**31 + 7])], PRIOR, NAMES)
    sub = submission_rows(table)
    assert list(sub.columns) == ["row_id", "normal_mild", "moderate", "severe"]
    assert len(sub) == 50
    assert sub["row_id"].iloc[:25].tolist() == SAMPLE_SUBMISSION_ROWS
    assert sub["row_id"].iloc[25] == f"{2**31 + 7}_spinal_canal_stenosis_l1_l2"
    np.testing.assert_allclose(sub[["normal_mild", "moderate", "severe"]].sum(axis=1), 1.0)


def test_flagged_and_skipped_targets_carry_the_training_prior_and_say_why():
    table = target_table([5], [_canal([5])], PRIOR, NAMES)
    canal = table[table["condition"] == "spinal_canal_stenosis"]
    assert canal["graded"].tolist() == [True, False, True, True, True]
    assert canal["grade"].iloc[0] == "Severe" and canal["flag"].iloc[1] == "no confident target"
    np.testing.assert_allclose(canal[PROB_COLUMNS].iloc[1], [0.8, 0.1, 0.1])
    recesses = table[table["condition"] == "left_subarticular_stenosis"]
    np.testing.assert_allclose(recesses[PROB_COLUMNS].to_numpy(), [[0.5, 0.3, 0.2]] * 5)
    assert (~recesses["graded"]).all()
    assert set(recesses["flag"]) == {NO_GRADER.format(condition="subarticular")}
