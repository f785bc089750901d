"""Inference on the tiny phantom's studies after the shared train run (``conftest.trained``):
the submission, the joint head and the warning, the grader validation chose, and the end-to-end
rows graded as inference grades."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from disc_grade.conditions import CONDITION_NAMES
from disc_grade.rsna import PROB_COLUMNS
from tests.pipelines.conftest import cells, chosen_graders, read_json

pytestmark = pytest.mark.e2e


def test_inference_writes_the_submission_of_every_study(trained):
    from disc_grade.evaluation.rsna_targets import score_submission
    from disc_grade.rsna import submission_targets

    raw = trained.data / "01_raw/phantom"
    submission = pd.read_csv(trained.inference / "submission.csv")
    studies = sorted(pd.read_csv(raw / "train.csv")["study_id"])
    assert list(submission.columns) == ["row_id", "normal_mild", "moderate", "severe"]
    expected = [f"{s}_{c}_{lv}" for s, c, lv in submission_targets(studies)]
    assert submission["row_id"].tolist() == expected and len(expected) == 25 * len(studies)
    grades = pd.read_csv(trained.inference / "grades.csv")
    for condition, rows in grades.groupby(grades["condition"].str.split("_").str[-2]):
        assert rows["graded"].any(), condition
    assert (grades["graded"] | grades["flag"].notna()).all()
    score = score_submission(submission, pd.read_csv(raw / "train.csv"))
    assert 0 < score["rsna_score"] < 5


def test_the_joint_head_and_the_warning_reach_inference(trained):
    data = trained.data
    joint_metrics = read_json(data / "08_reporting/joint.json")
    joint = joint_metrics["conditions"]
    assert set(joint) == set(CONDITION_NAMES)
    assert all(joint[n]["decided_on"] == "out_of_fold" for n in CONDITION_NAMES), joint
    # the canal's one leave-site-out fold reaches the joint stage; the other conditions have none
    folds = cells(data / "07_model_output/spinal/folds/predictions", "s")
    features = pd.read_parquet(data / "07_model_output/spinal/joint_features.parquet")
    assert set(features.loc[features["fold_left_out"] == -2, "fold_site"]) == set(
        folds["fold_site"]
    )
    assert all(joint[n]["left_out_sites"] is None for n in ("foraminal", "subarticular")), joint
    assert {"validation", "test", "external_test"} <= set(joint_metrics["novelty"]["by_split"])
    grades = pd.read_csv(trained.inference / "grades.csv")
    assert {"novelty", "unlike_training"} <= set(grades.columns)
    assert grades.groupby("study_id")["novelty"].nunique().max() == 1  # one figure a study


@pytest.mark.parametrize("name", CONDITION_NAMES)
def test_inference_grades_with_what_validation_chose(trained, name):
    data = trained.data
    chosen = chosen_graders(data)[name]
    joint = read_json(data / "08_reporting/joint.json")["conditions"][name]
    own = pd.read_csv(trained.inference / name / "grades.csv")
    # the chosen variant's two fold models average (split.n_folds 2, selection.fold_average)
    assert chosen["fold_average"] and chosen["n_folds"] == 2, chosen
    used = chosen["variant"] + "+2folds"
    used += "+adabn" if chosen.get("adapt_batchnorm") else ""
    used += "+joint" if joint["kept"] else ""
    assert set(own.loc[own["graded"], "variant"]) == {used}, name


def test_the_end_to_end_rows_grade_as_inference_does(trained):
    """The report's end-to-end 'chosen' rows are what inference ships: same points, same
    grades. No joint head in end-to-end; a grader that adapts its BatchNorm to the crops it
    grades adapts to the whole folder in inference, to one split in the report."""
    data = trained.data
    chosen = chosen_graders(data)
    joint = read_json(data / "08_reporting/joint.json")["conditions"]
    alone = [
        n for n in CONDITION_NAMES if not joint[n]["kept"] and not chosen[n].get("adapt_batchnorm")
    ]
    matched = [
        _same_points_same_grades(data, trained.inference / n / "grades.csv", n) for n in alone
    ]
    assert sum(matched) >= 10, matched


def _same_points_same_grades(data, inference_grades, name: str) -> int:
    """The end-to-end 'chosen' rows and inference's grades agree wherever a target was found at
    the same point (the foramina's and recesses' localisers find from the labelled canal points
    in evaluation and from the found ones in inference, so a few points differ). Returns how
    many targets were compared."""
    keys = ["study_id", "condition", "level"]
    where = ["series_id", "slice_rank", "x", "y"]
    errors = pd.read_csv(data / f"07_model_output/{name}/localiser_errors.csv")
    found = errors[errors["found"]][[*keys, "series_id_pred", "slice_rank", "x_pred", "y_pred"]]
    found.columns = [*keys, *where]
    shipped = pd.read_parquet(data / f"07_model_output/{name}/end_to_end_predictions.parquet")
    shipped = shipped[shipped["variant"] == "chosen"].merge(found, on=keys)
    inferred = pd.read_csv(inference_grades).query("graded")
    both = shipped.merge(inferred, on=keys, suffixes=("_report", "_inference"))
    same = np.ones(len(both), dtype=bool)
    for column in where:
        same &= np.isclose(both[f"{column}_report"], both[f"{column}_inference"], atol=1e-3)
    for column in PROB_COLUMNS:
        np.testing.assert_allclose(
            both.loc[same, f"{column}_report"],
            both.loc[same, f"{column}_inference"],
            atol=1e-4,
            err_msg=name,
        )
    return int(same.sum())
