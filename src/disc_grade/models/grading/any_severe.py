"""The canal's two terms of the RSNA score judged together: the spinal family's weighted log loss
and the any-severe-spinal term (per study, the largest P(Severe) over its levels against whether
any level is Severe, weighted by its largest sample weight; ``evaluation.rsna_score``).

A correction fitted per target (the study stacker) can lower the first and raise the second,
since the second reads one probability per study, the largest. The score weighs both alike, so
a change to the canal's probabilities is judged by the sum of the two terms' gains, over the
same study bootstrap resamples (paired).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from disc_grade.evaluation.log_loss import WEIGHTS
from disc_grade.models.grading.calibration import study_resampled_sums

_EPS = 1e-15  # scikit-learn's clip, as the score's log loss


def _per_study(studies: np.ndarray, labels: np.ndarray, p_severe: np.ndarray) -> pd.DataFrame:
    return (
        pd.DataFrame(
            {"study_id": studies, "p": p_severe, "severe": labels == 2, "w": WEIGHTS[labels]}
        )
        .groupby("study_id", sort=True)
        .agg(p=("p", "max"), severe=("severe", "any"), w=("w", "max"))
    )


def _study_loss(table: pd.DataFrame) -> np.ndarray:
    p = np.clip(table["p"].to_numpy(dtype=float), _EPS, 1 - _EPS)
    return -table["w"].to_numpy() * np.where(table["severe"].to_numpy(), np.log(p), np.log(1 - p))


def _row_losses(p: np.ndarray, labels: np.ndarray) -> np.ndarray:
    p = np.asarray(p, dtype=float)
    p = p / p.sum(axis=1, keepdims=True)
    return -WEIGHTS[labels] * np.log(np.clip(p[np.arange(len(labels)), labels], _EPS, 1.0))


def canal_terms_gain(
    p_new: np.ndarray,
    p_old: np.ndarray,
    labels: np.ndarray,
    studies: np.ndarray,
    n_resamples: int = 1000,
    seed: int = 0,
) -> dict:
    """How much ``p_new`` lowers the canal's two RSNA terms against ``p_old`` (rows: spinal
    targets, columns Normal/Mild, Moderate, Severe): each term's gain (``family_gain``,
    ``any_severe_gain``), their sum (``gain``) and the share of study bootstrap resamples in
    which the sum is positive (``share_won``)."""
    labels, studies = np.asarray(labels, dtype=int), np.asarray(studies)
    old = _per_study(studies, labels, np.asarray(p_old, dtype=float)[:, 2])
    new = _per_study(studies, labels, np.asarray(p_new, dtype=float)[:, 2])
    per_row = np.zeros((len(labels) + len(old), 4))
    per_row[: len(labels), 0] = _row_losses(p_old, labels) - _row_losses(p_new, labels)
    per_row[: len(labels), 1] = WEIGHTS[labels]
    per_row[len(labels) :, 2] = _study_loss(old) - _study_loss(new)
    per_row[len(labels) :, 3] = old["w"].to_numpy()
    groups = np.concatenate([studies, old.index.to_numpy()])
    sums = study_resampled_sums(per_row, groups, n_resamples, seed)
    drawn = sums[:, 0] / sums[:, 1] + sums[:, 2] / sums[:, 3]
    family = float(per_row[:, 0].sum() / per_row[:, 1].sum())
    any_severe = float(per_row[:, 2].sum() / per_row[:, 3].sum())
    return {
        "family_gain": family,
        "any_severe_gain": any_severe,
        "gain": family + any_severe,
        "share_won": float((drawn > 0).mean()),
        "n_resamples": int(n_resamples),
    }
