"""Calibration on validation: it mends an over-confident grader and leaves a calibrated one alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from disc_grade.evaluation.log_loss import submission_probabilities, weighted_log_loss
from disc_grade.models.grading.calibration import (
    apply_calibration,
    cross_validated_loss,
    cross_validated_probabilities,
    fit_calibration,
    paired_gain,
)
from disc_grade.models.grading.decision import calibrated_table, decide
from disc_grade.rsna import PROB_COLUMNS, RAW_PROB_COLUMNS, SPINAL
from disc_grade.selection.variants import choose_grader, validation_figures


def _toy(n: int = 1500, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True posteriors of ``n`` targets (3 grades, unequal frequencies), labels drawn from them,
    and a study per five targets."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 1.2, (n, 3)) + np.log([0.7, 0.2, 0.1])
    truth = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    labels = np.array([rng.choice(3, p=p) for p in truth])
    return truth, labels, np.arange(n) // 5


def _over_confident(truth: np.ndarray) -> np.ndarray:
    sharp = truth**3  # a temperature of 1/3: the same ranking, far too sure
    return sharp / sharp.sum(1, keepdims=True)


def test_calibration_lowers_the_loss_of_an_over_confident_grader():
    truth, labels, studies = _toy()
    raw = _over_confident(truth)
    fitted = fit_calibration(raw, labels, studies)
    before = weighted_log_loss(labels, submission_probabilities(raw))
    after = weighted_log_loss(labels, submission_probabilities(apply_calibration(raw, fitted)))
    assert fitted["method"] in ("temperature", "vector")
    assert fitted["temperature"] == pytest.approx(3.0, rel=0.25)
    assert after < before - 0.05
    # as good as knowing the truth, within noise
    assert after == pytest.approx(
        weighted_log_loss(labels, submission_probabilities(truth)), abs=0.02
    )


def test_calibration_leaves_a_calibrated_grader_alone():
    truth, labels, studies = _toy(seed=1)
    fitted = fit_calibration(truth, labels, studies)
    assert fitted["method"] in ("reweighted", "temperature", "vector")
    np.testing.assert_allclose(apply_calibration(truth, fitted), truth, atol=0.05)


def test_a_grader_that_already_submits_the_weighted_optimum_keeps_its_output():
    truth, labels, studies = _toy(seed=2)
    submitted = submission_probabilities(truth)  # what a grader trained on the metric returns
    fitted = fit_calibration(submitted, labels, studies)
    assert fitted["method"] == "as_trained"
    np.testing.assert_allclose(
        submission_probabilities(apply_calibration(submitted, fitted)), submitted, atol=1e-6
    )


def test_the_submitted_probabilities_and_the_grade_follow_from_the_posterior():
    q = np.array([[0.6, 0.25, 0.15], [0.9, 0.08, 0.02]])
    expected = [[0.6 / 1.7, 0.5 / 1.7, 0.6 / 1.7], [0.9 / 1.14, 0.16 / 1.14, 0.08 / 1.14]]
    np.testing.assert_allclose(submission_probabilities(q), expected)
    prior = np.array([0.8, 0.15, 0.05])
    assert decide(q, prior).tolist() == [2, 0]  # 0.15 / 0.05 beats 0.6 / 0.8 and 0.25 / 0.15


def test_a_calibrated_table_keeps_the_graders_own_output_and_refuses_a_second_pass():
    table = pd.DataFrame(
        {
            "study_id": [1, 2],
            "condition": SPINAL,
            "level": "l1_l2",
            "label": [0, 2],
            "predicted": [0, 0],
            **dict(zip(PROB_COLUMNS, [[0.7, 0.6], [0.2, 0.1], [0.1, 0.3]], strict=True)),
        }
    )
    priors = pd.DataFrame(
        {
            "condition": [SPINAL, SPINAL],
            "weighted": [False, True],
            "p_normal_mild": [0.8, 0.5],
            "p_moderate": [0.15, 0.2],
            "p_severe": [0.05, 0.3],
        }
    )
    identity = {"method": "reweighted", "temperature": 1.0, "bias": [0.0, 0.0, 0.0]}
    out = calibrated_table(table, identity, priors)
    np.testing.assert_allclose(out[RAW_PROB_COLUMNS].to_numpy(), table[PROB_COLUMNS].to_numpy())
    np.testing.assert_allclose(
        out[PROB_COLUMNS].to_numpy(), submission_probabilities(table[PROB_COLUMNS].to_numpy())
    )
    assert out["predicted"].tolist() == [2, 2] and out["raw_predicted"].tolist() == [0, 0]
    with pytest.raises(ValueError, match="calibrated already"):
        calibrated_table(out, identity, priors)
    with pytest.raises(ValueError, match="no row for condition"):
        calibrated_table(table.assign(condition="left_subarticular_stenosis"), identity, priors)


def _fit(loss: float) -> dict:
    return {"method": "vector", "cross_validated_log_loss": {"vector": loss}}


def test_validation_chooses_the_grader_and_a_setting_overrides_it():
    calibration = {"contrastive": _fit(0.62), "scratch": _fit(0.55), "frozen": _fit(0.70)}
    labels = np.tile([0, 1, 2], 10)
    tables = []
    for variant, n_wrong in (("contrastive", 9), ("scratch", 12), ("frozen", 15)):
        predicted = labels.copy()
        predicted[:n_wrong] = (labels[:n_wrong] + 1) % 3  # balanced accuracy 1 - n_wrong / 30
        probs = np.full((30, 3), 0.2) + 0.6 * np.eye(3)[predicted]
        tables.append(
            pd.DataFrame(
                {
                    "variant": variant,
                    "split": "validation",
                    "label": labels,
                    "predicted": predicted,
                    **dict(zip(PROB_COLUMNS, probs.T, strict=True)),
                }
            )
        )
    metrics = pd.concat(tables)
    assert validation_figures(metrics)["scratch"]["balanced_accuracy"] == pytest.approx(0.6)
    assert choose_grader(metrics, calibration, {"by": "log_loss"})["variant"] == "scratch"
    by_ba = choose_grader(metrics, calibration, {"by": "balanced_accuracy"})
    assert by_ba["variant"] == "contrastive" and not by_ba["overridden"]
    forced = choose_grader(metrics, calibration, {"by": "log_loss", "variant": "frozen"})
    assert forced["variant"] == "frozen" and forced["chosen_by_validation"] == "scratch"
    with pytest.raises(ValueError, match="selection.by"):
        choose_grader(metrics, calibration, {"by": "accuracy"})


def test_cross_validated_probabilities_give_the_cross_validated_loss():
    truth, labels, studies = _toy(n=600, seed=3)
    raw = _over_confident(truth)
    p = cross_validated_probabilities(raw, labels, studies, "vector", 0.01, 5)
    assert np.isfinite(p).all() and np.allclose(p.sum(1), 1)
    assert weighted_log_loss(labels, p) == pytest.approx(
        cross_validated_loss(raw, labels, studies, "vector", 0.01, 5)
    )


def test_a_paired_comparison_tells_a_better_grader_from_noise():
    truth, labels, studies = _toy(n=500, seed=4)
    blurred = 0.5 * truth + 0.5 * truth.mean(0)  # knows less
    better = paired_gain(
        submission_probabilities(truth), submission_probabilities(blurred), labels, studies
    )
    assert better["gain"] > 0.02 and better["share_won"] > 0.99
    worse = paired_gain(
        submission_probabilities(blurred), submission_probabilities(truth), labels, studies
    )
    assert worse["gain"] == pytest.approx(-better["gain"]) and worse["share_won"] < 0.01
    same = paired_gain(truth, truth, labels, studies)
    assert same["gain"] == 0 and same["share_won"] == 0
    # a sliver of improvement on few studies: lower on the whole, not in most resamples
    rng = np.random.default_rng(5)
    jitter = truth * np.exp(rng.normal(0, 0.3, truth.shape))
    jitter /= jitter.sum(1, keepdims=True)
    few = slice(0, 60)
    noisy = paired_gain(truth[few], jitter[few], labels[few], studies[few])
    assert 0.05 < noisy["share_won"] < 0.95
