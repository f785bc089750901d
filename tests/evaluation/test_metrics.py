"""Every metric against hand-written references on small cases with known answers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import balanced_accuracy_score, cohen_kappa_score, f1_score, log_loss

from disc_grade.evaluation import metrics as M
from disc_grade.evaluation.log_loss import weighted_log_loss
from disc_grade.rsna import SAMPLE_WEIGHTS, SPINAL


def table(labels, predicted, probs=None, studies=None, levels=None):
    labels, predicted = np.asarray(labels), np.asarray(predicted)
    if probs is None:
        probs = np.eye(3)[predicted] * 0.8 + 0.2 / 3
    probs = np.asarray(probs, dtype=float)
    n = len(labels)
    return pd.DataFrame(
        {
            "study_id": studies if studies is not None else np.arange(n) // 5,
            "condition": SPINAL,
            "level": levels if levels is not None else [M_LEVELS[i % 5] for i in range(n)],
            "label": labels,
            "predicted": predicted,
            "p_normal_mild": probs[:, 0],
            "p_moderate": probs[:, 1],
            "p_severe": probs[:, 2],
            "point_x_pred": 10.0,
            "point_y_pred": 10.0,
            "point_x_true": 13.0,
            "point_y_true": 14.0,
            "mm_per_px": 0.5,
        }
    )


M_LEVELS = ["l1_l2", "l2_l3", "l3_l4", "l4_l5", "l5_s1"]


@pytest.mark.parametrize(
    "labels, predicted, expected",
    [
        ([0, 0, 1, 1, 2, 2], [0, 0, 1, 1, 2, 2], 1.0),
        ([0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 2, 0], (0.5 + 1 + 0.5) / 3),
        (
            [0, 0, 0, 1],
            [0, 0, 1, 1],
            (2 / 3 + 1) / 2,
        ),  # Severe absent from the truth: mean over present classes
        ([2, 2, 2], [0, 0, 0], 0.0),
    ],
)
def test_balanced_accuracy(labels, predicted, expected):
    cm = M.confusion(labels, predicted)
    assert M.balanced_accuracy(cm) == pytest.approx(expected)
    assert M.balanced_accuracy(cm) == pytest.approx(balanced_accuracy_score(labels, predicted))


def test_recall_and_precision_are_nan_where_undefined():
    cm = M.confusion([0, 0, 1], [0, 1, 1])
    assert M.recalls(cm)[:2].tolist() == [0.5, 1.0] and math.isnan(M.recalls(cm)[2])
    assert M.precisions(cm)[:2].tolist() == [1.0, 0.5] and math.isnan(M.precisions(cm)[2])


@pytest.mark.parametrize(
    "labels, predicted, rate, count",
    [
        ([2, 2, 2, 2, 0], [0, 1, 2, 2, 0], 0.25, 1),
        ([2, 2], [2, 2], 0.0, 0),
        ([0, 1], [0, 0], float("nan"), 0),
    ],
)
def test_severe_to_normal(labels, predicted, rate, count):
    got_rate, got_count = M.severe_to_normal(M.confusion(labels, predicted))
    assert got_count == count
    assert (math.isnan(got_rate) and math.isnan(rate)) or got_rate == pytest.approx(rate)


@pytest.mark.parametrize("seed", range(5))
def test_macro_f1_and_kappa_match_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, 40)
    predicted = np.where(rng.random(40) < 0.6, labels, rng.integers(0, 3, 40))
    cm = M.confusion(labels, predicted)
    assert M.macro_f1(cm) == pytest.approx(
        f1_score(labels, predicted, average="macro", labels=[0, 1, 2], zero_division=0)
    )
    assert M.quadratic_weighted_kappa(cm) == pytest.approx(
        cohen_kappa_score(labels, predicted, weights="quadratic")
    )


def test_kappa_and_f1_on_known_cases():
    perfect = M.confusion([0, 1, 2], [0, 1, 2])
    assert M.quadratic_weighted_kappa(perfect) == 1.0 and M.macro_f1(perfect) == 1.0
    # all Normal/Mild predicted for a mixed truth: kappa 0 (agreement no better than chance)
    assert M.quadratic_weighted_kappa(M.confusion([0, 1, 2], [0, 0, 0])) == pytest.approx(0.0)


def test_weighted_log_loss_matches_scikit_learn_with_clipping():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 30)
    probs = rng.dirichlet([1, 1, 1], 30)
    probs[0] = [1.0, 0.0, 0.0]  # a confident miss for a non-zero label exercises the clipping
    labels[0] = 2
    weights = np.asarray(SAMPLE_WEIGHTS)[labels]
    expected = log_loss(labels, probs, sample_weight=weights, labels=[0, 1, 2])
    assert weighted_log_loss(labels, probs, weights) == pytest.approx(expected, rel=1e-9)
    assert weighted_log_loss(labels, probs) == pytest.approx(expected, rel=1e-9)  # the default


def test_rsna_spinal_score_on_a_fixed_example_by_the_published_formula():
    # two studies; study 1 has a Severe level, study 2 none
    probs = np.array([[0.7, 0.2, 0.1], [0.2, 0.3, 0.5], [0.6, 0.3, 0.1], [0.1, 0.8, 0.1]])
    t = table(
        [0, 2, 0, 1],
        probs.argmax(1),
        probs,
        studies=[1, 1, 2, 2],
        levels=["l1_l2", "l2_l3", "l1_l2", "l2_l3"],
    )
    w = np.array([1, 4, 1, 2])
    spinal = -(w * np.log([0.7, 0.5, 0.6, 0.8])).sum() / w.sum()
    # any severe: study 1 max P(sev) 0.5, truth 1, weight 4; study 2 max 0.1, truth 0, weight 2
    any_severe = -(4 * np.log(0.5) + 2 * np.log(0.9)) / 6
    got = M.evaluate_split(t, n_resamples=10)
    assert got["log_loss"] == pytest.approx(spinal)
    assert got["any_severe_spinal_log_loss"] == pytest.approx(any_severe)


def test_the_any_severe_spinal_term_is_one_computation_checked_by_hand():
    """The canal's metrics and the full RSNA score take the same term, the competition's: the
    study's largest submitted P(Severe), as submitted (rows are not renormalised first)."""
    from disc_grade.evaluation.rsna_score import rsna_score

    # rows summing to 0.8 and 1.2: renormalising first would give max P(Severe) 0.4 / 0.8 = 0.5
    probs = np.array([[0.3, 0.1, 0.4], [0.6, 0.5, 0.1]])
    t = table([2, 0], probs.argmax(1), probs, studies=[1, 1], levels=["l1_l2", "l2_l3"])
    hand = -np.log(0.4)  # one study, truly Severe (weight 4): -log(max P(Severe) = 0.4)
    canal = M.evaluate_split(t, n_resamples=10)["any_severe_spinal_log_loss"]
    scored = rsna_score(t.assign(condition="spinal_canal_stenosis"))["any_severe_spinal_log_loss"]
    assert canal == pytest.approx(hand) and scored == pytest.approx(hand)


def test_expected_calibration_error_by_hand():
    probs = np.array([[0.9, 0.05, 0.05], [0.9, 0.05, 0.05], [0.6, 0.4, 0.0], [0.2, 0.3, 0.5]])
    labels = np.array([0, 1, 0, 2])
    # bins (10): conf 0.9 -> bin 8 (acc 0.5), 0.6 -> bin 5 (acc 1), 0.5 -> bin 4 (acc 1)
    expected = 2 / 4 * abs(0.5 - 0.9) + 1 / 4 * abs(1 - 0.6) + 1 / 4 * abs(1 - 0.5)
    ece, bins = M.expected_calibration_error(labels, probs, 10)
    assert ece == pytest.approx(expected) and bins["count"].sum() == 4


def test_localisation_error_in_px_and_mm():
    got = M.localisation_error(table([0, 1], [0, 1]))
    assert got["loc_rmse_px"] == pytest.approx(5.0) and got["loc_rmse_mm"] == pytest.approx(2.5)


def test_bootstrap_is_seeded_resamples_studies_and_brackets_the_estimate():
    rng = np.random.default_rng(1)
    labels = rng.choice(3, 500, p=[0.7, 0.2, 0.1])
    predicted = np.where(rng.random(500) < 0.8, labels, rng.integers(0, 3, 500))
    t = table(labels, predicted, studies=np.arange(500) // 5)
    a = M.bootstrap_by_study(t, 300, seed=3)
    assert a == M.bootstrap_by_study(t, 300, seed=3)
    point = M.balanced_accuracy(M.confusion(labels, predicted))
    low, high = a["balanced_accuracy"]
    assert low < point < high and high - low < 0.2
    # a single study: every resample is that study, so the interval collapses
    one = table([0, 1, 2], [0, 1, 1], studies=[7, 7, 7], levels=M_LEVELS[:3])
    low, high = M.bootstrap_by_study(one, 50)["severe_to_normal_rate"]
    assert low == high == 0.0


def test_evaluate_split_reports_per_level_and_plain_numbers():
    t = table([0, 1, 2, 0, 0, 2, 1, 0, 0, 0], [0, 1, 0, 0, 1, 2, 1, 0, 0, 0])
    out = M.evaluate_split(t, n_resamples=20)
    assert out["severe_to_normal_count"] == 1 and out["severe_to_normal_rate"] == pytest.approx(0.5)
    assert set(f"balanced_accuracy_{lvl}" for lvl in M_LEVELS) <= set(out)
    assert out["confusion_severe_as_normal"] == 1 and out["confusion_normal_as_moderate"] == 1
    assert sum(v for k, v in out.items() if k.startswith("confusion_")) == len(t)
    assert all(isinstance(v, int | float) for v in out.values())


def test_ties_in_the_any_severe_maximum_and_on_a_bin_edge():
    probs = np.array(
        [[0.5, 0.2, 0.3], [0.4, 0.3, 0.3]]
    )  # two levels tie for the study's max P(Severe)
    t = table([0, 0], [0, 0], probs, studies=[1, 1], levels=["l1_l2", "l2_l3"])
    assert M.evaluate_split(t, n_resamples=10)["any_severe_spinal_log_loss"] == pytest.approx(
        -np.log(0.7)
    )
    # confidence exactly on a bin edge (0.5) falls in the lower bin, as np.digitize(right=True) says
    _, bins = M.expected_calibration_error(np.array([0]), np.array([[0.5, 0.25, 0.25]]), 10)
    assert bins.loc[4, "count"] == 1
