"""The probe of a grader's features reads what the features hold (the report's ladder shows it
for the chosen grader)."""

from __future__ import annotations

import numpy as np

from disc_grade.models.grading.context_grading import probe
from tests.models.grading.test_context import _toy


def test_the_probe_reads_the_grade_where_the_features_hold_it():
    features, index = _toy(200, relative=False)
    held = probe(features, index)
    assert set(held) == {"validation", "test"} and held["test"] > 0.75, held
    rng = np.random.default_rng(0)
    blind = probe(rng.normal(size=features.shape).astype(np.float32), index)
    assert blind["test"] < 0.5, blind


def test_the_probe_says_nothing_where_training_has_one_grade():
    features, index = _toy(30, relative=False)
    one = index.assign(label=np.where(index["split"] == "train", 0, index["label"]))
    assert all(np.isnan(v) for v in probe(features, one).values())
