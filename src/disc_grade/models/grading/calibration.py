"""Calibration of a grader's probabilities, fitted on the validation split.

A grader trained with class weights and a focal loss does not output the probability of each
grade. Calibration maps its output ``r`` to a posterior ``q = softmax(log r / T + b)``
(temperature ``T``; ``b`` one offset per grade, the first fixed at 0: vector scaling). Two uses
follow from ``q``, each the optimum of its own metric:

- the probabilities to submit: the RSNA log loss weighs a target by 1, 2 or 4 by its true grade,
  and its expected value is lowest at ``p_k`` proportional to ``w_k q_k``
  (``submission_probabilities``), not at ``q`` itself;
- the grade to call: balanced accuracy is highest at ``argmax_k q_k / prior_k`` (the rule the
  Bayes ceiling uses), if ``q`` is the true posterior; which rule calls the grade is chosen on
  validation too (``models.decision``).

``T`` and ``b`` minimise the weighted log loss of ``p`` on validation (whose optimum is the true
posterior ``q``), plus a small ridge on ``log T`` and ``b``. Four methods: ``as_trained`` submits
the grader's output unchanged (``T = 1``, ``b = -log w``); ``reweighted`` takes it as the
posterior (``T = 1``, ``b = 0``); ``temperature`` fits ``T``; ``vector`` fits ``T`` and ``b``.
Which one is kept is chosen by the same loss, cross-validated by study within the validation
split, so a grader that is already calibrated is left alone.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from disc_grade.evaluation.log_loss import WEIGHTS, submission_probabilities, weighted_log_loss

METHODS = ("as_trained", "reweighted", "temperature", "vector")
FITTED = {"temperature": 1, "vector": 3}  # parameters each fitted method has
_EPS = 1e-7


def posterior(raw: np.ndarray, temperature: float = 1.0, bias=(0.0, 0.0, 0.0)) -> np.ndarray:
    """``softmax(log raw / temperature + bias)``, rows summing to one."""
    logits = np.log(np.clip(np.asarray(raw, dtype=float), _EPS, None)) / float(temperature)
    logits = logits + np.asarray(bias, dtype=float)
    logits -= logits.max(axis=1, keepdims=True)
    q = np.exp(logits)
    return q / q.sum(axis=1, keepdims=True)


def _unpack(theta: np.ndarray, method: str) -> tuple[float, np.ndarray]:
    if method == "as_trained":
        return 1.0, -np.log(WEIGHTS)
    if method == "reweighted":
        return 1.0, np.zeros(3)
    temperature = float(np.exp(theta[0]))
    bias = np.array([0.0, theta[1], theta[2]]) if method == "vector" else np.zeros(3)
    return temperature, bias


def fit_method(raw: np.ndarray, labels: np.ndarray, method: str, l2: float = 0.01) -> dict:
    """``temperature`` and ``bias`` of one method, fitted on (``raw``, ``labels``).

    Raises:
        ValueError: an unknown method.
    """
    if method not in METHODS:
        raise ValueError(f"calibration method must be one of {METHODS}, got '{method}'")
    if method not in FITTED or len(labels) == 0:
        temperature, bias = _unpack(np.zeros(0), method if method not in FITTED else "reweighted")
        return {"method": method, "temperature": temperature, "bias": [float(b) for b in bias]}
    size = FITTED[method]

    def loss(theta: np.ndarray) -> float:
        temperature, bias = _unpack(theta, method)
        p = submission_probabilities(posterior(raw, temperature, bias))
        return weighted_log_loss(labels, p) + l2 * float(np.sum(theta**2))

    theta = minimize(loss, np.zeros(size), method="L-BFGS-B").x
    temperature, bias = _unpack(theta, method)
    return {"method": method, "temperature": temperature, "bias": [float(b) for b in bias]}


def study_folds(groups: np.ndarray, n_folds: int) -> list[np.ndarray]:
    """Row indices per fold, whole groups (studies) dealt out in sorted order."""
    unique = np.unique(groups)
    return [np.flatnonzero(np.isin(groups, unique[i::n_folds])) for i in range(n_folds)]


def cross_validated_probabilities(
    raw: np.ndarray, labels: np.ndarray, groups: np.ndarray, method: str, l2: float, n_folds: int
) -> np.ndarray:
    """[n, 3] the probabilities the method submits for each row, fitted on the other folds (by
    study), so no row is scored by a fit it took part in."""
    out = np.full((len(labels), 3), np.nan)
    for held in study_folds(groups, n_folds):
        rest = np.setdiff1d(np.arange(len(labels)), held)
        fitted = fit_method(raw[rest], labels[rest], method, l2)
        out[held] = submission_probabilities(
            posterior(raw[held], fitted["temperature"], fitted["bias"])
        )
    return out


def cross_validated_loss(
    raw: np.ndarray, labels: np.ndarray, groups: np.ndarray, method: str, l2: float, n_folds: int
) -> float:
    """The method's weighted log loss on held-out studies, each fold fitted on the others."""
    if len(labels) == 0:
        return float("nan")
    return weighted_log_loss(
        labels, cross_validated_probabilities(raw, labels, groups, method, l2, n_folds)
    )


def fit_calibration(
    raw: np.ndarray,
    labels: np.ndarray,
    groups: np.ndarray,
    methods=METHODS,
    l2: float = 0.01,
    n_folds: int = 5,
) -> dict:
    """The method with the lowest cross-validated loss among ``methods``, refitted on every row.

    Args:
        raw: [n, 3] the grader's probabilities on the validation split.
        labels: [n] their grades; groups: [n] their studies (folds never split a study).

    Returns:
        ``method``, ``temperature``, ``bias``, and ``cross_validated_log_loss`` per method.
    """
    raw, labels, groups = np.asarray(raw, dtype=float), np.asarray(labels), np.asarray(groups)
    n_folds = max(2, min(n_folds, len(np.unique(groups))))
    scores = {m: cross_validated_loss(raw, labels, groups, m, l2, n_folds) for m in methods}
    best = lowest_loss(scores)
    return {**fit_method(raw, labels, best, l2), "cross_validated_log_loss": scores}


def lowest_loss(scores: dict[str, float]) -> str:
    """The method of the lowest loss (NaN highest; a tie goes to the first in ``METHODS``)."""
    return min(scores, key=lambda m: (np.nan_to_num(scores[m], nan=np.inf), METHODS.index(m)))


def apply_calibration(raw: np.ndarray, calibration: dict) -> np.ndarray:
    """The calibrated posterior ``q`` of ``raw`` under a ``fit_calibration`` result."""
    return posterior(raw, calibration["temperature"], calibration["bias"])


def study_resampled_sums(
    per_row: np.ndarray, groups: np.ndarray, n_resamples: int = 1000, seed: int = 0
) -> np.ndarray:
    """[n_resamples, k] column sums of ``per_row`` [n, k] over study bootstrap resamples (each
    study drawn whole, so two graders compared on the same draws are paired)."""
    studies, inverse = np.unique(np.asarray(groups), return_inverse=True)
    per_study = np.zeros((len(studies), per_row.shape[1]))
    np.add.at(per_study, inverse, per_row)
    drawn = np.random.default_rng(seed).integers(0, len(studies), (n_resamples, len(studies)))
    return per_study[drawn].sum(axis=1)


def paired_gain(p_new, p_old, labels, groups, n_resamples: int = 1000, seed: int = 0) -> dict:
    """How much lower ``p_new``'s weighted log loss is than ``p_old``'s on the same rows
    (``gain``), and the share of study bootstrap resamples in which it is lower (``share_won``):
    a paired comparison, so the studies both graders find hard cancel out."""
    labels = np.asarray(labels, dtype=int)
    if len(labels) == 0:
        return {"gain": float("nan"), "share_won": float("nan"), "n_resamples": 0}
    w, rows = WEIGHTS[labels], np.arange(len(labels))

    def row_loss(p: np.ndarray) -> np.ndarray:
        return -w * np.log(np.clip(np.asarray(p, dtype=float)[rows, labels], _EPS, 1.0))

    per_row = np.stack([row_loss(p_old) - row_loss(p_new), w], axis=1)
    sums = study_resampled_sums(per_row, groups, n_resamples, seed)
    return {
        "gain": float(per_row[:, 0].sum() / per_row[:, 1].sum()),
        "share_won": float((sums[:, 0] / sums[:, 1] > 0).mean()),
        "n_resamples": int(n_resamples),
    }
