"""The one keep-or-drop rule: kept only where the candidate wins in at least ``confidence`` of
the study resamples."""

from __future__ import annotations

import numpy as np
import pytest

from disc_grade.models.grading.calibration import paired_gain
from disc_grade.models.grading.gate import gate, wins


def _tables(n_better: int, n_worse: int):
    """Studies of one target each, all Normal/Mild: the candidate is surer of the right grade on
    ``n_better`` studies and less sure on ``n_worse``."""
    n = n_better + n_worse
    shipped = np.tile([0.6, 0.3, 0.1], (n, 1))
    candidate = np.vstack(
        [np.tile([0.7, 0.2, 0.1], (n_better, 1)), np.tile([0.45, 0.45, 0.1], (n_worse, 1))]
    )
    return candidate, shipped, np.zeros(n, dtype=int), np.arange(n)


def _verdict(tables, confidence: float) -> dict:
    return gate(paired_gain(*tables, seed=1), confidence)


def test_a_candidate_better_on_every_study_is_kept():
    verdict = _verdict(_tables(30, 0), 0.9)
    assert verdict["share_won"] == 1.0 and verdict["kept"]


def test_a_candidate_that_wins_fewer_resamples_than_asked_is_dropped():
    verdict = _verdict(_tables(20, 10), 0.9)
    assert 0.5 < verdict["share_won"] < 0.9  # better on average, not often enough
    assert not verdict["kept"]
    assert _verdict(_tables(20, 10), verdict["share_won"])["kept"]


def test_the_rule_at_its_edges():
    assert wins(0.9, 0.9) and not wins(0.899, 0.9)
    assert not wins(float("nan"), 0.5) and not wins(None, 0.5)
    with pytest.raises(ValueError, match="confidence"):
        wins(0.5, 0.0)
