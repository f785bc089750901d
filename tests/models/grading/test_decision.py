"""The rule that calls a grade is chosen on validation: the grader's own argmax where the
posterior rule would move its boundaries the wrong way or wins by no more than noise, the
posterior where it is clearly right."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from disc_grade.evaluation.metrics import balanced_accuracy, confusion
from disc_grade.models.grading.decision import (
    calibrated_table,
    choose_decision,
    decide,
    decide_grades,
    share_won,
)
from disc_grade.rsna import PROB_COLUMNS, SPINAL
from disc_grade.selection.calibrate import calibrate_on_validation, validation_score

PRIOR = np.array([0.7, 0.2, 0.1])


def _toy(n: int = 1500, seed: int = 0):
    """True posteriors of ``n`` targets, labels drawn from them, a study per five targets."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 1.5, (n, 3)) + np.log(PRIOR)
    truth = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    labels = np.array([rng.choice(3, p=p) for p in truth])
    return truth, labels, np.arange(n) // 5


def _ba(labels, grades) -> float:
    return balanced_accuracy(confusion(labels, grades))


def _class_weighted(truth: np.ndarray) -> np.ndarray:
    """What a grader trained with inverse-frequency class weights returns: P(k|x) / prior_k."""
    r = truth / PRIOR
    return r / r.sum(1, keepdims=True)


def test_the_graders_own_call_is_kept_where_the_posterior_rule_shifts_it_the_wrong_way():
    truth, labels, studies = _toy()
    raw = _class_weighted(truth)  # its argmax is already the balanced-accuracy rule
    priors = np.tile(PRIOR, (len(labels), 1))
    # as_trained takes raw for w * q: dividing by the weights and the prior again over-calls
    chosen = choose_decision(raw, labels, studies, priors, "as_trained")
    scores = chosen["cross_validated_balanced_accuracy"]
    assert chosen["decision"] == "grader"
    assert scores["grader"] == pytest.approx(_ba(labels, raw.argmax(1)))
    assert scores["grader"] > scores["posterior"] + 0.01


def test_the_posterior_rule_is_kept_where_the_graders_argmax_favours_the_common_grade():
    truth, labels, studies = _toy(seed=1)
    priors = np.tile(PRIOR, (len(labels), 1))
    chosen = choose_decision(truth, labels, studies, priors, "reweighted")
    scores = chosen["cross_validated_balanced_accuracy"]
    assert chosen["decision"] == "posterior"
    assert scores["posterior"] == pytest.approx(_ba(labels, decide(truth, PRIOR)))
    assert scores["posterior"] > scores["grader"] + 0.05 and chosen["posterior_won"] > 0.99
    only = choose_decision(truth, labels, studies, priors, "reweighted", decisions=("grader",))
    assert only["decision"] == "grader"  # a setting can leave one rule
    with pytest.raises(ValueError, match="calibration.decisions"):
        choose_decision(truth, labels, studies, priors, "reweighted", decisions=("argmax",))


def test_grades_follow_the_rule_a_calibration_names():
    raw = np.array([[0.5, 0.3, 0.2], [0.6, 0.1, 0.3]])
    identity = {"method": "reweighted", "temperature": 1.0, "bias": [0.0, 0.0, 0.0]}
    assert decide_grades(raw, identity, PRIOR).tolist() == [2, 2]  # posterior, the default
    assert decide_grades(raw, {**identity, "decision": "grader"}, PRIOR).tolist() == [0, 0]
    with pytest.raises(ValueError, match="not one of"):
        decide_grades(raw, {**identity, "decision": "argmax"}, PRIOR)


def _table(raw: np.ndarray, labels: np.ndarray, studies: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "study_id": studies,
            "condition": SPINAL,
            "level": "l1_l2",
            "split": "validation",
            "label": labels,
            "predicted": raw.argmax(1),
            **dict(zip(PROB_COLUMNS, raw.T, strict=True)),
        }
    )


def test_the_calibration_node_chooses_the_rule_and_applies_it():
    truth, labels, studies = _toy(n=1000, seed=2)
    raw = _class_weighted(truth)
    priors = pd.DataFrame(
        {
            "condition": [SPINAL],
            "weighted": [False],
            **{c: [p] for c, p in zip(PROB_COLUMNS, PRIOR, strict=True)},
        }
    )
    params = {"methods": ["as_trained"], "l2": 0.01, "folds": 5}
    fitted, table = calibrate_on_validation(_table(raw, labels, studies), priors, params)
    assert fitted["decision"] == "grader"
    assert table["predicted"].tolist() == raw.argmax(1).tolist()
    expected = fitted["cross_validated_balanced_accuracy"]["grader"]
    assert validation_score(fitted, table, "balanced_accuracy") == pytest.approx(expected)
    forced, table = calibrate_on_validation(
        _table(raw, labels, studies), priors, {**params, "decisions": ["posterior"]}
    )
    assert forced["decision"] == "posterior"
    assert table["predicted"].tolist() != raw.argmax(1).tolist()
    again = calibrated_table(_table(raw, labels, studies), fitted, priors)
    assert again["predicted"].tolist() == raw.argmax(1).tolist()


def test_a_posterior_rule_that_wins_by_no_more_than_noise_leaves_the_graders_call():
    truth, labels, studies = _toy(n=250, seed=4)
    priors = np.tile(PRIOR, (len(labels), 1))
    rng = np.random.default_rng(3)
    # trained with class weights: its own call is the balanced-accuracy rule already, which a
    # fitted posterior can match but not beat by more than noise
    raw = _class_weighted(truth)
    chosen = choose_decision(raw, labels, studies, priors, "vector")
    scores = chosen["cross_validated_balanced_accuracy"]
    assert scores["grader"] < scores["posterior"] < scores["grader"] + 0.02  # higher, by a sliver
    assert chosen["decision"] == "grader" and chosen["posterior_won"] < 0.9
    same = labels.copy()
    assert share_won(labels, same, same, studies) == 0  # a tie is no win
    better = np.where(rng.random(len(labels)) < 0.5, labels, (labels + 1) % 3)
    assert share_won(labels, labels, better, studies) == 1.0
