"""The canal's two RSNA terms judged together: each term's gain is the score's own, and a change
that lowers the family's log loss while raising the any-severe term is judged by their sum."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from disc_grade.evaluation.log_loss import weighted_log_loss
from disc_grade.evaluation.rsna_score import any_severe_spinal_loss
from disc_grade.models.grading.any_severe import canal_terms_gain
from disc_grade.rsna import LEVELS, PROB_COLUMNS, SPINAL


def _canal(n_studies: int = 120, seed: int = 0):
    rng = np.random.default_rng(seed)
    labels = rng.choice(3, size=(n_studies, len(LEVELS)), p=[0.8, 0.14, 0.06]).ravel()
    studies = np.repeat(np.arange(n_studies), len(LEVELS))
    probs = rng.dirichlet([4, 2, 1], size=len(labels))
    probs[np.arange(len(labels)), labels] += 0.4
    return labels, studies, probs / probs.sum(axis=1, keepdims=True)


def _table(labels, studies, probs) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "study_id": studies,
            "condition": SPINAL,
            "level": np.tile(LEVELS, len(labels) // len(LEVELS)),
            "label": labels,
            **dict(zip(PROB_COLUMNS, probs.T, strict=True)),
        }
    )


def test_each_term_gain_is_the_scores_own():
    labels, studies, old = _canal()
    _, _, new = _canal(seed=1)
    new = 0.5 * new + 0.5 * old
    got = canal_terms_gain(new, old, labels, studies)
    assert got["family_gain"] == pytest.approx(
        weighted_log_loss(labels, old) - weighted_log_loss(labels, new)
    )
    assert got["any_severe_gain"] == pytest.approx(
        any_severe_spinal_loss(_table(labels, studies, old))
        - any_severe_spinal_loss(_table(labels, studies, new))
    )
    assert got["gain"] == pytest.approx(got["family_gain"] + got["any_severe_gain"])
    same = canal_terms_gain(old, old, labels, studies)
    assert same["gain"] == 0 and same["share_won"] == 0


def test_a_lower_family_loss_that_raises_the_any_severe_term_is_judged_by_the_sum():
    labels, studies, old = _canal()
    # sharper on every target's own grade, but a Severe probability of 0.75 on each study's
    # first Normal level: the family term falls, the any-severe term rises more
    new = old.copy()
    new[np.arange(len(labels)), labels] += 0.3
    new /= new.sum(axis=1, keepdims=True)
    first = np.flatnonzero((labels == 0) & (np.arange(len(labels)) % len(LEVELS) == 0))
    new[first] = [0.2, 0.05, 0.75]
    got = canal_terms_gain(new, old, labels, studies)
    assert got["family_gain"] > 0 > got["any_severe_gain"]
    assert got["gain"] < 0 and got["share_won"] < 0.1, got
