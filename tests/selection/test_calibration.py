"""The calibration method and the rule that calls a grade, chosen out of fold: the fold models'
left-out rows decide them, the shipped grader is fitted on validation with them, and the
variant's out-of-fold score is that of the method it ships with."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from disc_grade.evaluation.log_loss import WEIGHTS
from disc_grade.models.training.fold_plan import FOLD_OUT, SITE_OUT
from disc_grade.rsna import PROB_COLUMNS, SPINAL
from disc_grade.selection.calibration import (
    calibrate_predictions,
    out_of_fold_calibration,
)
from disc_grade.selection.fold_cells import fold_rows, no_folds, no_study_folds
from disc_grade.selection.judging import Judging
from disc_grade.selection.out_of_fold import out_of_fold_scores
from tests.selection.test_sites import PRIORS

PARAMS = {
    "methods": ["as_trained", "reweighted"],
    "l2": 0.01,
    "folds": 3,
    "decisions": ["grader", "posterior"],
    "confidence": 0.9,
}
LEVELS = ["l1_l2", "l2_l3", "l3_l4", "l4_l5", "l5_s1"]


def _judging(calibration: dict, leave_site_out: dict) -> Judging:
    """The settings a condition's calibration reads: its calibration and leave-site-out blocks."""
    return Judging({}, calibration, {}, leave_site_out)


PRIOR = np.array([0.6, 0.3, 0.1])


def _graded(q: np.ndarray, labels, studies, split: str, weighted) -> pd.DataFrame:
    """A grader's rows: it outputs the posterior ``q`` itself, or ``q`` times the grade weights
    (what a grader trained with class weights outputs: ``as_trained`` is then calibrated), or
    ``q`` over the squared prior (``weighted="balanced"``: its argmax calls rare grades too
    often already, so dividing by the prior once more loses)."""
    scale = {True: np.asarray(WEIGHTS), False: np.ones(3), "balanced": PRIOR**-2}[weighted]
    raw = q * scale
    raw = raw / raw.sum(axis=1, keepdims=True)
    return pd.DataFrame(
        {
            "variant": "scratch",
            "split": split,
            "study_id": np.repeat(studies, len(LEVELS)),
            "condition": SPINAL,
            "level": np.tile(LEVELS, len(studies)),
            "label": labels,
            "predicted": raw.argmax(axis=1),
            **dict(zip(PROB_COLUMNS, raw.T, strict=True)),
        }
    )


def _cohort(seed: int = 0):
    """60 non-test studies (40 training, 20 validation, dealt into 3 folds by ``study % 3``):
    the fold models output the posterior (``reweighted`` is right for them), the shipped grader
    the weighted posterior (``as_trained`` is right for it); grades rare above Normal."""
    rng = np.random.default_rng(seed)
    studies = np.arange(60)
    logits = rng.normal(0.0, 1.0, (300, 3)) + 1.5 * np.log([0.6, 0.3, 0.1])
    q = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = np.array([rng.choice(3, p=row) for row in q])
    row_study = np.repeat(studies, len(LEVELS))
    folds = []
    for k in range(3):
        own = (row_study >= 40) & (row_study % 3 != k)
        out = row_study % 3 == k
        for rows, split in ((own, "validation"), (out, FOLD_OUT)):
            graded = _graded(q[rows], labels[rows], np.unique(row_study[rows]), split, False)
            folds.append(graded.assign(adapted=False, fold_left_out=k))
    shipped = row_study >= 40
    table = _graded(q[shipped], labels[shipped], np.unique(row_study[shipped]), "validation", True)
    return pd.concat(folds, ignore_index=True), table


def test_the_method_and_rule_are_chosen_on_the_studies_the_folds_left_out():
    folds, table = _cohort()
    chosen = out_of_fold_calibration(folds, PRIORS, PARAMS)
    assert chosen["folds"] == 3 and chosen["n_studies"] == 60 and chosen["n_targets"] == 300
    losses = chosen["log_loss"]
    assert chosen["method"] == "reweighted" and losses["reweighted"] < losses["as_trained"]
    # rare grades: dividing the posterior by the prior calls them, the argmax seldom does
    accuracy = chosen["balanced_accuracy"]
    assert accuracy["posterior"] > accuracy["grader"] and chosen["decision"] == "posterior"
    strict = out_of_fold_calibration(folds, PRIORS, {**PARAMS, "confidence": 1.0})
    assert strict["decision"] == "grader"  # the fitted rule must win the studies' resamples

    # the shipped grader is fitted on validation with the method and rule chosen out of fold,
    # though the validation split alone would choose otherwise
    calibration, predictions = calibrate_predictions(
        table, fold_rows(folds, no_folds("site")), PRIORS, _judging(PARAMS, {})
    )
    fitted = calibration["scratch"]
    assert fitted["chosen_on_split"]["method"] == "as_trained"
    assert fitted["method"] == "reweighted" and fitted["decision"] == "posterior"
    assert fitted["temperature"] == 1.0 and fitted["bias"] == [0.0, 0.0, 0.0]
    assert fitted["out_of_fold"] == chosen
    assert np.allclose(predictions[[f"raw_{c}" for c in PROB_COLUMNS]], table[PROB_COLUMNS])
    # without folds, the split's own choice
    alone, _ = calibrate_predictions(
        table, fold_rows(no_study_folds(), no_folds("site")), PRIORS, _judging(PARAMS, {})
    )
    assert alone["scratch"]["method"] == "as_trained" and "out_of_fold" not in alone["scratch"]

    # the variant's out-of-fold score is that of the method and rule it ships with
    scores = out_of_fold_scores(folds, PRIORS, PARAMS, calibration)["scratch"]
    assert scores["log_loss"] == pytest.approx(losses["reweighted"])
    assert scores["balanced_accuracy"] == pytest.approx(accuracy["posterior"])


def _sites(weighted, seed: int = 1) -> pd.DataFrame:
    """Leave-site-out fold models of two sites: each calibrated on the other site's validation
    studies and graded on its own site's (``SITE_OUT``); as trained and adapted."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0.0, 1.0, (200, 3)) + 1.5 * np.log([0.6, 0.3, 0.1])
    q = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = np.array([rng.choice(3, p=row) for row in q])
    site = np.repeat(np.arange(40) % 2, len(LEVELS))
    tables = []
    for k in (0, 1):
        for rows, split in ((site != k, "validation"), (site == k, SITE_OUT)):
            graded = _graded(
                q[rows], labels[rows], np.unique(np.flatnonzero(rows) // 5), split, weighted
            )
            tables += [graded.assign(adapted=a, fold_site=f"site{k}") for a in (False, True)]
    return pd.concat(tables, ignore_index=True)


def test_the_left_out_sites_weigh_in_on_the_method():
    folds, table = _cohort()  # out of fold: reweighted; on the split: as_trained
    sites = _sites(weighted=True)  # on sites never trained on: as_trained
    calibration, _ = calibrate_predictions(
        table, fold_rows(folds, sites), PRIORS, _judging(PARAMS, {"weight": 1.0})
    )
    fitted = calibration["scratch"]
    seen = fitted["left_out_sites"]
    assert (
        seen["log_loss"]["as_trained"] < seen["log_loss"]["reweighted"] and seen["n_studies"] == 40
    )
    assert fitted["method"] == "as_trained" and fitted["out_of_fold"]["method"] == "as_trained"
    assert (
        fitted["out_of_fold"]["log_loss"]["reweighted"]
        < fitted["out_of_fold"]["log_loss"]["as_trained"]
    )
    # weight 0: the sites say nothing
    unweighed, _ = calibrate_predictions(
        table, fold_rows(folds, sites), PRIORS, _judging(PARAMS, {"weight": 0.0})
    )
    assert unweighed["scratch"]["method"] == "reweighted"
    # no study folds: the split's losses, the sites weighing in
    alone, _ = calibrate_predictions(
        table,
        fold_rows(no_study_folds(), _sites(weighted=False)),
        PRIORS,
        _judging(PARAMS, {"weight": 1.0}),
    )
    assert alone["scratch"]["method"] == "reweighted"
    assert alone["scratch"]["chosen_on_split"]["method"] == "as_trained"
    # the rule: a posterior over the prior that loses on the left-out sites is not kept there
    balanced, params = _sites(weighted="balanced"), {**PARAMS, "confidence": 0.8}
    ruled, _ = calibrate_predictions(
        table, fold_rows(folds, balanced), PRIORS, _judging(params, {"weight": 1.0})
    )
    fitted = ruled["scratch"]
    assert fitted["out_of_fold"]["posterior_won"] >= 0.8  # in-site, it would be kept
    assert fitted["left_out_sites"]["posterior_won"][fitted["method"]] < 0.5
    assert fitted["decision"] == "grader"
    with pytest.raises(ValueError, match="weight"):
        calibrate_predictions(
            table, fold_rows(folds, sites), PRIORS, _judging(PARAMS, {"weight": 2.0})
        )


def test_unknown_methods_and_targets_left_out_twice_are_refused():
    folds, _ = _cohort()
    with pytest.raises(ValueError, match="calibration.methods"):
        out_of_fold_calibration(folds, PRIORS, {**PARAMS, "methods": ["isotonic"]})
    twice = pd.concat([folds, folds[folds["fold_left_out"] == 0].assign(fold_left_out=1)])
    with pytest.raises(ValueError, match="left out twice"):
        out_of_fold_calibration(twice, PRIORS, PARAMS)


@pytest.mark.parametrize(
    "bad", [{"methods": ["isotonic"]}, {"decisions": ["vote"]}, {"methods": []}]
)
def test_the_splits_calibration_refuses_what_the_fold_choice_refuses(bad):
    """One check of the methods and rules serves the split's calibration and the out-of-fold
    choice: an unknown or empty one is refused by both, named."""
    from disc_grade.selection.calibrate import calibrate_on_validation

    folds, table = _cohort()
    with pytest.raises(ValueError, match="calibration.methods / decisions"):
        calibrate_on_validation(table, PRIORS, {**PARAMS, **bad})
    with pytest.raises(ValueError, match="calibration.methods / decisions"):
        out_of_fold_calibration(folds, PRIORS, {**PARAMS, **bad})
