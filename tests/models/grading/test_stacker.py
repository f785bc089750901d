"""The study stacker beats per-condition grades where a level's conditions share a cause, does
not lose where they do not, and reads no left-right orientation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from disc_grade.evaluation.log_loss import WEIGHTS, weighted_log_loss
from disc_grade.models.grading.stacker import apply_stacker, fit_stacker, stack_inputs
from disc_grade.rsna import CONDITIONS, LEVELS, PROB_COLUMNS

CUTS = (0.4, 1.2)  # the latent's thresholds of Moderate and Severe
NOISE = 0.8  # how much each grader's observation errs
PARAMS = {"l2": 0.1, "folds": 5, "seed": 0, "confidence": 0.9}


def _posterior(observed: np.ndarray) -> np.ndarray:
    """Each target's exact grade posterior from its own observation (latent ~ N(0, 1)), as a
    calibrated grader ships it for the metric (times its 1/2/4 weights, renormalised)."""
    mean = observed / (1 + NOISE**2)
    sd = np.sqrt(NOISE**2 / (1 + NOISE**2))
    edges = np.array([-np.inf, *CUTS, np.inf])
    cdf = norm.cdf((edges[None, :] - mean[:, None]) / sd)
    weighted = np.diff(cdf, axis=1) * WEIGHTS
    return weighted / weighted.sum(axis=1, keepdims=True)


def _cohort(n_studies: int, shared: float, seed: int, first: int = 0) -> pd.DataFrame:
    """Every target of ``n_studies``; a level's five latents share ``shared`` of their variance
    (0: independent); each grade's probabilities are its own observation's posterior alone."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_studies):
        for level in LEVELS:
            cause = rng.normal()
            for condition in CONDITIONS:
                latent = np.sqrt(shared) * cause + np.sqrt(1 - shared) * rng.normal()
                rows.append((first + s, condition, level, latent, latent + NOISE * rng.normal()))
    table = pd.DataFrame(rows, columns=["study_id", "condition", "level", "latent", "observed"])
    table["label"] = np.searchsorted(CUTS, table["latent"].to_numpy())
    probs = _posterior(table["observed"].to_numpy())
    return table.assign(**dict(zip(PROB_COLUMNS, probs.T, strict=True)))


def _test_loss(model: dict, test: pd.DataFrame) -> tuple[float, float]:
    stacked = apply_stacker(model, test)
    labels = test["label"].to_numpy(dtype=int)
    given = weighted_log_loss(labels, test[PROB_COLUMNS].to_numpy(dtype=float))
    return given, weighted_log_loss(labels, stacked[PROB_COLUMNS].to_numpy(dtype=float))


def test_a_shared_cause_is_read_from_the_neighbours_and_kept():
    model = fit_stacker(_cohort(300, 0.5, 0), PARAMS)
    assert all(model["families"][f]["kept"] for f in ("spinal", "foraminal", "subarticular"))
    given, stacked = _test_loss(model, _cohort(200, 0.5, 1, first=1000))
    assert stacked < given - 0.03, (given, stacked)


def test_without_a_shared_cause_it_is_not_kept_and_does_not_lose():
    model = fit_stacker(_cohort(300, 0.0, 0), PARAMS)
    assert not any(f["kept"] for f in model["families"].values()), model["families"]
    forced = {"families": {k: {**f, "kept": True} for k, f in model["families"].items()}}
    given, stacked = _test_loss(forced, _cohort(200, 0.0, 1, first=1000))
    assert stacked < given + 0.01, (given, stacked)


def test_a_study_mirrored_left_to_right_gets_the_same_probabilities_sides_swapped():
    model = fit_stacker(_cohort(300, 0.5, 0), PARAMS)
    study = _cohort(1, 0.5, 7, first=5000)
    swap = {
        c: c.replace("left", "@").replace("right", "left").replace("@", "right") for c in CONDITIONS
    }
    mirrored = study.assign(condition=study["condition"].map(swap))
    keys = ["study_id", "condition", "level"]
    a = apply_stacker(model, study).set_index(keys)[PROB_COLUMNS]
    b = apply_stacker(model, mirrored).assign(condition=lambda t: t["condition"].map(swap))
    assert np.allclose(a.sort_index(), b.set_index(keys)[PROB_COLUMNS].sort_index())


def test_a_missing_neighbour_reads_as_no_evidence_and_bad_settings_are_named():
    study = _cohort(1, 0.5, 7)
    alone = study[study["condition"] == CONDITIONS[1]]
    x = stack_inputs(alone, alone)
    assert x.shape == (5, 18) and np.allclose(x[:, 3:15], np.log(1 / 3))
    assert np.isfinite(stack_inputs(study[study["condition"] == CONDITIONS[0]], study)).all()
    with pytest.raises(ValueError, match="joint.stacker"):
        fit_stacker(study, {**PARAMS, "folds": 1})


def test_a_levels_neighbours_come_from_the_condition_specs():
    """The stacker's roles are the specs' (``conditions.level_neighbours``), not its own
    reading of condition names: every target's neighbours are its level's other targets, each
    once, and a sided target's roles keep its side first in the other family."""
    from disc_grade.conditions import level_neighbours
    from disc_grade.rsna import CONDITIONS, SPINAL

    for condition in CONDITIONS:
        roles = level_neighbours(condition)
        named = [c for role in roles for c in role]
        assert sorted(named) == sorted(set(CONDITIONS) - {condition}), condition
    assert level_neighbours(SPINAL) == [
        ["left_neural_foraminal_narrowing", "right_neural_foraminal_narrowing"],
        ["left_subarticular_stenosis", "right_subarticular_stenosis"],
    ]
    assert level_neighbours("left_subarticular_stenosis") == [
        [SPINAL],
        ["right_subarticular_stenosis"],
        ["left_neural_foraminal_narrowing"],
        ["right_neural_foraminal_narrowing"],
    ]
