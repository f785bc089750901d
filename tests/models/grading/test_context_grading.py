"""The study-context head as the pipeline uses it: both heads fitted on standardised features,
the kept head saved and reloaded grades alike, and the probe reads what the features hold."""

from __future__ import annotations

import numpy as np

from disc_grade.models.grading.context_grading import (
    as_bundle,
    fit_heads,
    graded_in_context,
    head_raw,
    probe,
)
from tests.models.grading.test_context import PARAMS, _toy


def test_a_saved_context_head_grades_as_the_fitted_one():
    features, index = _toy(120, relative=True)
    features = features * 50 + 7  # standardisation is part of the bundle
    fitted = fit_heads(features, index, {**PARAMS, "epochs": 60})
    test = np.flatnonzero(index["split"].to_numpy() == "test")
    bundle = as_bundle(fitted, "context", {"method": "as_trained"}, {**PARAMS, "epochs": 60})
    again = graded_in_context(bundle, features[test], index.iloc[test].reset_index(drop=True))
    np.testing.assert_allclose(again, head_raw(fitted, "context", features, index, test), atol=1e-6)
    assert set(fitted["heads"]) == {"per_target", "context"}


def test_the_probe_reads_the_grade_where_the_features_hold_it():
    features, index = _toy(200, relative=False)
    held = probe(features, index)
    assert set(held) == {"validation", "test"} and held["test"] > 0.75, held
    rng = np.random.default_rng(0)
    blind = probe(rng.normal(size=features.shape).astype(np.float32), index)
    assert blind["test"] < 0.5, blind


def test_a_saved_head_grades_targets_without_labels():
    features, index = _toy(60, relative=True)
    fitted = fit_heads(features, index, {**PARAMS, "epochs": 5})
    bundle = as_bundle(fitted, "context", {}, {**PARAMS, "epochs": 5})
    unlabelled = index.drop(columns=["label", "split"])
    probs = graded_in_context(bundle, features, unlabelled)
    assert probs.shape == (len(index), 3) and np.allclose(probs.sum(axis=1), 1, atol=1e-5)


def test_the_probe_says_nothing_where_training_has_one_grade():
    features, index = _toy(30, relative=False)
    one = index.assign(label=np.where(index["split"] == "train", 0, index["label"]))
    assert all(np.isnan(v) for v in probe(features, one).values())
