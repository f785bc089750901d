"""The study-fold models of the chosen variant grade the test studies and inference together:
their submitted probabilities averaged, the grade called by the variant's rule on the means, each
fold model calibrated on its own validation rows; what ships is what the report scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from disc_grade.conditions import SPINAL
from disc_grade.evaluation.log_loss import weighted_log_loss
from disc_grade.evaluation.report_summary import shipped
from disc_grade.models.grading.decision import calibrated_table
from disc_grade.models.grading.fold_average import averaged_table
from disc_grade.pipelines.condition.bundle import scored_predictions
from disc_grade.rsna import PROB_COLUMNS, RAW_PROB_COLUMNS
from disc_grade.selection.fold_average import fold_average, ship_fold_graders
from disc_grade.selection.sites import fold_average_setting
from tests.selection.test_sites import CALIBRATION, PRIORS

KEYS = ["study_id", "condition", "level"]
POINTS = {
    "point_x_pred": 10.0,
    "point_y_pred": 11.0,
    "point_x_true": 10.5,
    "point_y_true": 11.5,
    "mm_per_px": 1.25,
    "roi_centre_px": 12.0,
}


def _calibrated(probs: np.ndarray, raw: np.ndarray) -> pd.DataFrame:
    n = len(probs)
    return pd.DataFrame(
        {
            "study_id": np.arange(n) // 5,
            "condition": SPINAL,
            "level": [f"l{k % 5}" for k in range(n)],
            "split": "test",
            "label": np.arange(n) % 3,
            **dict(zip(PROB_COLUMNS, probs.T, strict=True)),
            **dict(zip(RAW_PROB_COLUMNS, raw.T, strict=True)),
            "predicted": probs.argmax(1),
            "raw_predicted": raw.argmax(1),
            "point_x_pred": np.full(n, 10.0),
            "point_y_pred": np.full(n, 12.0),
        }
    )


def test_the_average_is_the_mean_and_the_rule_calls_the_grade_on_it():
    first = _calibrated(np.array([[0.7, 0.2, 0.1]]), np.array([[0.6, 0.3, 0.1]]))
    second = _calibrated(np.array([[0.1, 0.2, 0.7]]), np.array([[0.2, 0.2, 0.6]]))
    second["point_x_pred"] = 14.0
    priors = np.array([[0.6, 0.3, 0.1]])
    by_grader = averaged_table([first, second], "grader", priors)
    np.testing.assert_allclose(by_grader[PROB_COLUMNS].to_numpy(), [[0.4, 0.2, 0.4]])
    np.testing.assert_allclose(by_grader[RAW_PROB_COLUMNS].to_numpy(), [[0.4, 0.25, 0.35]])
    assert by_grader["predicted"].tolist() == [0]  # the mean raw probabilities' argmax
    assert by_grader["point_x_pred"].tolist() == [12.0]
    # the posterior rule weighs the mean by the training frequencies: Severe (0.4 / 0.1) wins
    by_posterior = averaged_table([first, second], "posterior", priors)
    assert by_posterior["predicted"].tolist() == [2]
    with pytest.raises(ValueError, match="other rows"):
        averaged_table([first, second.assign(level="l4")], "grader", priors)
    with pytest.raises(ValueError, match="calibrated first"):
        averaged_table([first.drop(columns=RAW_PROB_COLUMNS)], "grader", priors)
    with pytest.raises(ValueError, match="rule 'vote'"):
        averaged_table([first], "vote", priors)


def _folds(n_folds: int = 3) -> pd.DataFrame:
    """One variant's study-fold predictions: per fold model its validation rows (noisy, each
    fold's own) and the same 12 test rows."""
    rng = np.random.default_rng(0)
    tables = []
    for k in range(n_folds):
        for split, n in (("validation", 30), ("test", 12)):
            labels = np.arange(n) % 3
            probs = rng.dirichlet(np.ones(3), n) + 1.5 * np.eye(3)[labels]
            probs /= probs.sum(1, keepdims=True)
            tables.append(
                pd.DataFrame(
                    {
                        "study_id": 100 * (split == "test") + np.arange(n) // 3,
                        "condition": SPINAL,
                        "level": [f"l{j % 3}" for j in range(n)],
                        "variant": "scratch",
                        "split": split,
                        "label": labels,
                        **dict(zip(PROB_COLUMNS, probs.T, strict=True)),
                        "predicted": probs.argmax(1),
                        **POINTS,
                        "adapted": False,
                        "fold_left_out": k,
                    }
                )
            )
    return pd.concat(tables, ignore_index=True)


def test_the_average_of_the_fold_models_is_no_worse_than_their_mean_loss_and_ships():
    folds = _folds()
    figures, rows = fold_average(folds, PRIORS, CALIBRATION, {"n_resamples": 20})
    assert figures["scratch"]["n_folds"] == 3 and len(rows) == 12
    shipped = ship_fold_graders(
        {"scratch": {str(k): {"w": k} for k in range(3)}},
        folds,
        {"variant": "scratch", "fold_average": True},
        {},
        PRIORS,
        CALIBRATION,
    )
    assert shipped["variant"] == "scratch" and sorted(shipped["folds"]) == ["0", "1", "2"]
    assert shipped["folds"]["1"]["weights"] == {"w": 1}
    assert set(shipped["folds"]["0"]["calibration"]) == {
        "method",
        "temperature",
        "bias",
        "decision",
    }
    labels = rows["label"].to_numpy(int)
    each = []
    for k in range(3):
        test = folds[(folds["fold_left_out"] == k) & (folds["split"] == "test")]
        cal = shipped["folds"][str(k)]["calibration"]
        assert cal["decision"] == "grader"
        own = calibrated_table(test.drop(columns=["adapted", "fold_left_out"]), cal, PRIORS)
        each.append(own[PROB_COLUMNS].to_numpy())
    # the figures report what the shipped fold models' calibrations give, averaged
    np.testing.assert_allclose(rows[PROB_COLUMNS].to_numpy(), np.mean(each, axis=0), atol=1e-9)
    mean_loss = np.mean([weighted_log_loss(labels, p) for p in each])
    assert figures["scratch"]["test"]["log_loss"] <= mean_loss + 1e-12
    # the whole-split grader ships where the setting says so; mismatched folds are named
    off = {"variant": "scratch", "fold_average": False}
    assert ship_fold_graders({"scratch": {}}, folds, off, {}, PRIORS, CALIBRATION) == {}
    on = {"variant": "scratch", "fold_average": True}
    with pytest.raises(ValueError, match="weights for folds"):
        ship_fold_graders({"scratch": {"0": {}}}, folds, on, {}, PRIORS, CALIBRATION)


def test_the_fold_average_ships_by_default_only_where_there_are_folds():
    scores = {"scratch": {"folds": 3}, "frozen": {"folds": 3}}
    assert fold_average_setting({}, scores) == {"fold_average": True, "n_folds": 3}
    assert fold_average_setting({}, {}) == {"fold_average": False, "n_folds": 0}
    assert fold_average_setting({"fold_average": False}, scores)["fold_average"] is False
    with pytest.raises(ValueError, match="selection.fold_average"):
        fold_average_setting({"fold_average": "yes"}, scores)


def test_without_study_folds_nothing_is_averaged_and_the_record_says_why():
    from disc_grade.selection.fold_average import study_fold_choices
    from disc_grade.selection.fold_cells import no_study_folds
    from disc_grade.selection.judging import Judging

    judging = Judging({}, CALIBRATION, {}, {})
    figures, rows, ships, out_of_fold = study_fold_choices(
        no_study_folds(), {}, {"variant": "scratch"}, {}, PRIORS, judging
    )
    assert figures == {"skipped": True, "reason": "no study folds (split.n_folds below 2)"}
    assert rows.empty and ships == {} and out_of_fold.empty


def test_the_scored_test_rows_are_the_fold_average_where_it_ships():
    folds = _folds(2)
    _, averaged = fold_average(folds, PRIORS, CALIBRATION, {"n_resamples": 20})
    whole = folds[folds["fold_left_out"] == 0].drop(columns=["adapted", "fold_left_out"])
    whole = whole.assign(p_normal_mild=1 / 3, p_moderate=1 / 3, p_severe=1 / 3)
    chosen = {"variant": "scratch", "fold_average": True}
    empty = pd.DataFrame()
    scored = scored_predictions(whole, chosen, empty, averaged)
    rows = scored[scored["variant"] == "chosen"].set_index(["split", *KEYS])
    test = rows.loc["test"].sort_index()
    expected = averaged.set_index(KEYS).sort_index()
    np.testing.assert_allclose(test[PROB_COLUMNS], expected[PROB_COLUMNS])
    # validation keeps the whole-split grader's rows (the fold models stopped on those studies)
    np.testing.assert_allclose(rows.loc["validation", PROB_COLUMNS].to_numpy(), 1 / 3)
    alone = scored_predictions(whole, {"variant": "scratch"}, empty, averaged)
    np.testing.assert_allclose(
        alone.loc[alone["variant"] == "chosen", PROB_COLUMNS].to_numpy(), 1 / 3
    )


def test_the_report_opens_on_the_fold_average_where_it_ships():
    results = {
        "chosen_grader": {"variant": "scratch", "fold_average": True},
        "metrics": {"scratch": {"test": {"balanced_accuracy": 0.7}}},
        "fold_average_metrics": {"scratch": {"n_folds": 3, "test": {"balanced_accuracy": 0.75}}},
    }
    name, figures = shipped(results)
    assert name == "scratch, 3 fold models averaged"
    assert figures["test"]["balanced_accuracy"] == 0.75
    results["chosen_grader"]["fold_average"] = False
    assert shipped(results) == ("scratch", {"test": {"balanced_accuracy": 0.7}})
