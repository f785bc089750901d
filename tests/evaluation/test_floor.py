"""The RSNA score's floor: a grader that knows the latent, under the metric's 1/2/4 weights."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from disc_grade.evaluation.floor import rsna_floor
from disc_grade.rsna import PROB_COLUMNS


def _truth(rows) -> pd.DataFrame:
    return pd.DataFrame(
        [(s, c, lv, *p) for s, c, lv, p in rows],
        columns=["study_id", "condition", "level", *PROB_COLUMNS],
    )


def test_the_floor_equals_a_hand_computation_on_three_targets():
    labels = pd.DataFrame(
        {
            "study_id": [7, 7, 7],
            "condition": [
                "spinal_canal_stenosis",
                "left_neural_foraminal_narrowing",
                "right_subarticular_stenosis",
            ],
            "level": ["l4_l5", "l4_l5", "l5_s1"],
            "label": [2, 0, 1],
        }
    )
    truth = _truth(
        [
            (7, "spinal_canal_stenosis", "l4_l5", (0.2, 0.3, 0.5)),
            (7, "left_neural_foraminal_narrowing", "l4_l5", (0.8, 0.15, 0.05)),
            (7, "right_subarticular_stenosis", "l5_s1", (0.4, 0.4, 0.2)),
        ]
    )
    out = rsna_floor(labels, truth)
    # p_k = w_k P(k) / sum_j w_j P(j), with w = 1, 2, 4; one target per family, so each family's
    # weighted log loss is -log p of its true grade
    spinal = -math.log(4 * 0.5 / (0.2 + 2 * 0.3 + 4 * 0.5))  # 2.0 / 2.8
    foraminal = -math.log(0.8 / (0.8 + 2 * 0.15 + 4 * 0.05))  # 0.8 / 1.3
    subarticular = -math.log(2 * 0.4 / (0.4 + 2 * 0.4 + 4 * 0.2))  # 0.8 / 2.0
    any_severe = spinal  # one spinal level, Severe: the study's max P(Severe) is that level's
    assert out["available"]
    assert out["spinal_log_loss"] == pytest.approx(spinal)
    assert out["foraminal_log_loss"] == pytest.approx(foraminal)
    assert out["subarticular_log_loss"] == pytest.approx(subarticular)
    assert out["any_severe_spinal_log_loss"] == pytest.approx(any_severe)
    assert out["rsna_score"] == pytest.approx((spinal + foraminal + subarticular + any_severe) / 4)


def test_weighing_by_the_metric_beats_submitting_the_latents_probabilities():
    rng = np.random.default_rng(0)
    rows, labels = [], []
    for study in range(300):
        for condition in (
            "spinal_canal_stenosis",
            "left_neural_foraminal_narrowing",
            "left_subarticular_stenosis",
        ):
            p = rng.dirichlet([6, 2, 1])
            rows.append((study, condition, "l1_l2", p))
            labels.append((study, condition, "l1_l2", int(rng.choice(3, p=p))))
    truth = _truth(rows)
    labels = pd.DataFrame(labels, columns=["study_id", "condition", "level", "label"])
    floor = rsna_floor(labels, truth)["rsna_score"]
    from disc_grade.evaluation.rsna_score import rsna_score

    plain = rsna_score(labels.merge(truth, on=["study_id", "condition", "level"]))["rsna_score"]
    assert floor < plain


def test_real_data_has_no_floor_and_a_missing_truth_row_is_named():
    labels = pd.DataFrame(
        {"study_id": [1], "condition": ["spinal_canal_stenosis"], "level": ["l1_l2"], "label": [0]}
    )
    out = rsna_floor(labels, pd.DataFrame())
    assert not out["available"] and "latent" in out["reason"]
    other = _truth([(2, "spinal_canal_stenosis", "l1_l2", (1.0, 0.0, 0.0))])
    with pytest.raises(ValueError, match="study 1, spinal_canal_stenosis l1_l2"):
        rsna_floor(labels, other)
