"""The competition's weighted log loss, and the probabilities it is lowest at.

The RSNA 2024 metric weighs each target by its true grade (``rsna.SAMPLE_WEIGHTS``: 1, 2, 4) and
scores ``sum_i w_i * -log p_i[y_i] / sum_i w_i``, each row renormalised to sum to one and
clipped as scikit-learn's ``log_loss`` does. Given a posterior ``q``, its expected value is
lowest at ``p_k`` proportional to ``w_k q_k`` (``submission_probabilities``), not at ``q``.
"""

from __future__ import annotations

import numpy as np

from disc_grade.rsna import SAMPLE_WEIGHTS

WEIGHTS = np.asarray(SAMPLE_WEIGHTS, dtype=float)


def _clip_normalise(probs: np.ndarray) -> np.ndarray:
    """Rows renormalised to sum to 1, then clipped to [eps, 1 - eps] as scikit-learn's log_loss does."""
    probs = np.asarray(probs, dtype=np.float64)
    probs = probs / probs.sum(axis=1, keepdims=True)
    eps = np.finfo(probs.dtype).eps
    return np.clip(probs, eps, 1 - eps)


def row_losses(y_true: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """[n] each row's ``-log p[y]``, the row renormalised and clipped as ``weighted_log_loss``
    scores it."""
    p = _clip_normalise(probs)
    y = np.asarray(y_true, dtype=int)
    return -np.log(p[np.arange(len(y)), y])


def weighted_log_loss(
    y_true: np.ndarray, probs: np.ndarray, weights: np.ndarray | None = None
) -> float:
    """Sample-weighted multi-class log loss: sum_i w_i * -log p_i[y_i] / sum_i w_i; ``weights``
    per row, by default the metric's (``WEIGHTS`` of each row's true grade)."""
    y = np.asarray(y_true, dtype=int)
    w = WEIGHTS[y] if weights is None else np.asarray(weights, dtype=float)
    return float((w * row_losses(y, probs)).sum() / w.sum())


def submission_probabilities(q: np.ndarray, weights=WEIGHTS) -> np.ndarray:
    """``p_k`` proportional to ``w_k q_k``: the lowest expected weighted log loss given ``q``."""
    p = np.asarray(q, dtype=float) * np.asarray(weights, dtype=float)
    return p / p.sum(axis=1, keepdims=True)


def posterior_of_submission(p: np.ndarray, weights=WEIGHTS) -> np.ndarray:
    """The inverse of ``submission_probabilities``."""
    q = np.asarray(p, dtype=float) / np.asarray(weights, dtype=float)
    return q / q.sum(axis=1, keepdims=True)
