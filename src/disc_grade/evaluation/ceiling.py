"""The best balanced accuracy any grader could reach, where the data's latent severity is known.

The phantom writes, per disc, the probability of each grade given its latent severity (the
readers' noise integrated). For balanced accuracy the best rule then predicts
``argmax_k P(k | latent) / P(k)``; its balanced accuracy on the same discs is the ceiling that
measured figures are read against; the log loss's floor is its counterpart for the weighted log
loss (``evaluation.floor``). Real data has no latent: both are then unavailable.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from disc_grade.evaluation.log_loss import submission_probabilities, weighted_log_loss
from disc_grade.evaluation.metrics import (
    balanced_accuracy,
    confusion,
)
from disc_grade.rsna import PROB_COLUMNS


def oracle_balanced_accuracy(labels: np.ndarray, oracle: np.ndarray, prior: np.ndarray) -> float:
    """Balanced accuracy of ``argmax(oracle / prior)`` against ``labels``.

    Args:
        labels: [n] grades given.
        oracle: [n, 3] probability of each grade given what an ideal grader knows.
        prior: [3] grade frequencies of the population the rule is tuned for.
    """
    prior = np.asarray(prior, dtype=float)
    with np.errstate(divide="ignore"):
        predicted = (np.asarray(oracle) / np.where(prior > 0, prior, np.inf)).argmax(1)
    return balanced_accuracy(confusion(np.asarray(labels, dtype=int), predicted))


def grade_prior(truth: pd.DataFrame) -> np.ndarray:
    """[3] the grade frequencies of ``truth``'s targets: the population the ceiling's rule is
    tuned for."""
    return np.bincount(truth["grade"].to_numpy(dtype=int), minlength=3) / len(truth)


def truth_of(truth: pd.DataFrame, conditions) -> pd.DataFrame:
    """The truth rows of ``conditions`` (none from an empty truth table: real data)."""
    if truth.empty:
        return truth
    return truth[truth["condition"].isin(list(conditions))]


def ceilings(truth: pd.DataFrame, predictions: pd.DataFrame) -> dict:
    """Per split of ``predictions`` (and over the whole cohort) the Bayes ceiling, and per split
    the log loss of a grader that knows the latent (``log_loss_floor``, ``floor``), or why none.

    Args:
        truth: ``phantom_truth`` (study_id, level, grade, ``PROB_COLUMNS``); empty for real data.
        predictions: the ``predictions`` table (one variant is enough: the discs are the same).
    """
    if truth.empty:
        return {
            "available": False,
            "reason": "no phantom_truth.csv: the latent severity is unknown",
        }
    prior = grade_prior(truth)
    out: dict = {
        "available": True,
        "cohort": oracle_balanced_accuracy(truth["grade"], truth[PROB_COLUMNS].to_numpy(), prior),
    }
    one_variant = predictions[predictions["variant"] == predictions["variant"].iloc[0]]
    keys = ["study_id", "condition", "level"]
    merged = one_variant[[*keys, "split", "label"]].merge(
        truth[[*keys, *PROB_COLUMNS]], on=keys, how="inner", validate="1:1"
    )
    out["log_loss_floor"] = {}
    for split, discs in merged.groupby("split", sort=True):
        oracle = discs[PROB_COLUMNS].to_numpy()
        out[split] = oracle_balanced_accuracy(discs["label"], oracle, prior)
        y = discs["label"].to_numpy(dtype=int)
        out["log_loss_floor"][split] = weighted_log_loss(y, submission_probabilities(oracle))
    return out
