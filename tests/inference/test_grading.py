"""All 25 targets per study: the submission layout, the priors and the flags."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from disc_grade.inference.grading import NO_GRADER, normalised_prior, target_table
from disc_grade.inference.studies import every_level, submission_rows
from disc_grade.rsna import PROB_COLUMNS

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
PRIOR = {"spinal": [8, 1, 1], "foraminal": [0.7, 0.2, 0.1], "subarticular": [0.5, 0.3, 0.2]}


def _spinal(study_ids):
    table = every_level(pd.Series(study_ids)).assign(
        condition="spinal_canal_stenosis",
        level_name="",
        series_id=1,
        slice_rank=0,
        x=0.0,
        y=0.0,
        peak=1.0,
        graded=True,
        grade="Severe",
        p_normal_mild=0.1,
        p_moderate=0.2,
        p_severe=0.7,
        flag="",
        variant="contrastive",
    )
    table.loc[1, "graded"] = False
    table.loc[1, "flag"] = "level not found"
    return table


def test_submission_matches_the_sample_submission_layout():
    prior = normalised_prior(PRIOR)
    table = target_table(_spinal([44036939, 2**31 + 7]), pd.Series([44036939, 2**31 + 7]), prior)
    sub = submission_rows(table)
    assert list(sub.columns) == ["row_id", "normal_mild", "moderate", "severe"]
    assert len(sub) == 50
    assert sub["row_id"].iloc[:25].tolist() == SAMPLE_SUBMISSION_ROWS
    assert sub["row_id"].iloc[25] == f"{2**31 + 7}_spinal_canal_stenosis_l1_l2"
    np.testing.assert_allclose(sub[["normal_mild", "moderate", "severe"]].sum(axis=1), 1.0)


def test_ungraded_families_carry_their_prior_and_a_flag():
    prior = normalised_prior(PRIOR)
    table = target_table(_spinal([5]), pd.Series([5]), prior)
    spinal = table[table["condition"] == "spinal_canal_stenosis"]
    assert spinal["graded"].tolist() == [True, False, True, True, True]
    assert spinal["p_severe"].iloc[0] == 0.7 and spinal["flag"].iloc[1] == "level not found"
    sub = table[table["condition"] == "left_subarticular_stenosis"]
    np.testing.assert_allclose(sub[PROB_COLUMNS].to_numpy(), [[0.5, 0.3, 0.2]] * 5)
    assert (~sub["graded"]).all()
    assert set(sub["flag"]) == {NO_GRADER.format(family="subarticular")}
    fora = table[table["condition"] == "right_neural_foraminal_narrowing"]
    np.testing.assert_allclose(fora["p_normal_mild"], 0.7)


@pytest.mark.parametrize(
    "prior, message",
    [
        ([0.8, 0.1, 0.1], "one entry per condition family"),
        ({**PRIOR, "foraminal": [0.5, 0.5]}, "inference.prior.foraminal"),
        ({**PRIOR, "subarticular": [0, 0, 0]}, "inference.prior.subarticular"),
    ],
)
def test_bad_prior_is_named(prior, message):
    with pytest.raises(ValueError, match=message):
        normalised_prior(prior)
