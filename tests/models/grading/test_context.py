"""A head that grades a study's targets together beats a per-target one where a target's grade
depends on the study's other targets, and does no worse where it does not."""

from __future__ import annotations

import numpy as np
import pandas as pd

from disc_grade.evaluation.log_loss import weighted_log_loss
from disc_grade.models.grading.context import fit_head, head_probabilities, positions
from disc_grade.rsna import LEVELS

PARAMS = {
    "seed": 0,
    "width": 32,
    "dropout": 0.0,
    "lr": 0.01,
    "weight_decay": 0.0001,
    "epochs": 400,
    "patience": 60,
    "class_weights": [1.0, 1.0, 1.0],
    "stop_fraction": 0.2,
}


def _toy(n_studies: int, relative: bool, seed: int = 0):
    """Five levels per study. Each target shows ``x``; the study adds an offset to every x
    (a canal narrow at every level). With ``relative`` the grade is x less the study's offset
    (what the study's other levels reveal), else x itself."""
    rng = np.random.default_rng(seed)
    rows = []
    for study in range(n_studies):
        offset = rng.normal(0, 1.5)
        for level in LEVELS:
            own = rng.normal(0, 1)
            x = own + offset
            score = own if relative else x
            grade = int(np.digitize(score, [0.6, 1.4]))
            rows.append((study, "spinal_canal_stenosis", level, grade, x))
    index = pd.DataFrame(rows, columns=["study_id", "condition", "level", "label", "x"])
    features = index[["x"]].to_numpy(dtype=np.float32)
    split = np.where(index["study_id"] < n_studies * 0.6, "train", "validation")
    split[index["study_id"] >= n_studies * 0.8] = "test"
    return features, index.assign(split=split)


def _test_loss(features, index, attention: bool) -> float:
    rows = {
        s: np.flatnonzero(index["split"].to_numpy() == s) for s in ("train", "validation", "test")
    }
    model, _ = fit_head(features, index, rows["train"], rows["validation"], attention, PARAMS)
    probs = head_probabilities(model, features, index, rows["test"])
    return weighted_log_loss(index["label"].to_numpy()[rows["test"]], probs)


def test_the_context_head_reads_a_level_against_the_studys_others():
    features, index = _toy(400, relative=True)
    per_target = _test_loss(features, index, attention=False)
    context = _test_loss(features, index, attention=True)
    assert context < per_target - 0.15, (context, per_target)


def test_where_the_grade_is_the_targets_own_the_context_head_is_no_worse():
    features, index = _toy(400, relative=False, seed=1)
    per_target = _test_loss(features, index, attention=False)
    context = _test_loss(features, index, attention=True)
    assert context < per_target + 0.05, (context, per_target)


def test_positions_name_the_level_the_side_and_the_condition():
    index = pd.DataFrame(
        {
            "condition": [
                "spinal_canal_stenosis",
                "left_subarticular_stenosis",
                "right_neural_foraminal_narrowing",
            ],
            "level": ["l1_l2", "l4_l5", "l5_s1"],
        }
    )
    pos = positions(index)
    assert pos.shape == (3, 5 + 3 + 3) and pos.sum(axis=1).tolist() == [3, 3, 3]
    assert (
        pos[0, 0] == pos[0, 5] == 1 and pos[1, 3] == pos[1, 6] == 1 and pos[2, 4] == pos[2, 7] == 1
    )
    # the condition: spinal, foraminal, subarticular (CONDITION_NAMES' order)
    assert pos[0, 8] == 1 and pos[1, 10] == 1 and pos[2, 9] == 1
