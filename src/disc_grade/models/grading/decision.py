"""The grade a calibrated grader calls, by a rule chosen on validation.

Balanced accuracy is highest at ``argmax_k q_k / prior_k`` when ``q`` is the true posterior
(the rule the Bayes ceiling uses). A grader trained with class weights already calls
``argmax_k r_k`` near that rule, while a ``q`` fitted for the log loss on a few dozen Severe
targets can move the boundaries the wrong way. So the rule (``DECISIONS``) is a choice made on
validation by balanced accuracy: ``grader`` (the grader's own argmax, nothing fitted) unless
``posterior`` (the calibrated posterior over the training frequencies, each study's grade from a
calibration fitted on the other folds, as the method is chosen) scores higher in at least
``confidence`` of the study bootstrap resamples of validation: a fitted rule must beat the plain
one by more than the studies' noise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from disc_grade.evaluation.log_loss import submission_probabilities
from disc_grade.evaluation.metrics import balanced_accuracies, balanced_accuracy, confusion
from disc_grade.models.grading.calibration import (
    METHODS,
    apply_calibration,
    fit_method,
    posterior,
    study_folds,
    study_resampled_sums,
)
from disc_grade.models.grading.gate import wins
from disc_grade.rsna import PROB_COLUMNS, RAW_PROB_COLUMNS

DECISIONS = ("grader", "posterior")  # the grader's own argmax, or argmax q / prior


def candidates(params: dict) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The calibration methods and rules ``params`` allows (``methods``, ``decisions``; all
    when absent).

    Raises:
        ValueError: none, or an unknown one.
    """
    methods = tuple(params.get("methods", METHODS))
    rules = tuple(params.get("decisions", DECISIONS))
    unknown = sorted((set(methods) - set(METHODS)) | (set(rules) - set(DECISIONS)))
    if unknown or not methods or not rules:
        raise ValueError(
            f"calibration.methods / decisions: {unknown or 'none'}; known: "
            f"{list(METHODS)} and {list(DECISIONS)}"
        )
    return methods, rules


def decide(q: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """The grade with the largest ``q_k / prior_k`` (per row; ``prior`` [3] or [n, 3])."""
    return (np.asarray(q, dtype=float) / np.asarray(prior, dtype=float)).argmax(axis=1)


def _balanced_accuracy(labels: np.ndarray, grades: np.ndarray) -> float:
    return balanced_accuracy(confusion(labels, grades)) if len(labels) else float("nan")


def share_won(labels, new, old, groups, n_resamples: int = 1000, seed: int = 0) -> float:
    """The share of study bootstrap resamples in which grades ``new`` have a higher balanced
    accuracy than grades ``old`` on the same rows (NaN without rows)."""
    labels = np.asarray(labels, dtype=int)
    if len(labels) == 0:
        return float("nan")
    cells = [np.eye(9)[3 * labels + np.asarray(g, dtype=int)] for g in (new, old)]
    sums = study_resampled_sums(np.concatenate(cells, axis=1), groups, n_resamples, seed)
    new_ba, old_ba = (balanced_accuracies(sums[:, k : k + 9].reshape(-1, 3, 3)) for k in (0, 9))
    return float((new_ba > old_ba).mean())


def choose_decision(
    raw: np.ndarray,
    labels: np.ndarray,
    groups: np.ndarray,
    priors: np.ndarray,
    method: str,
    decisions=DECISIONS,
    l2: float = 0.01,
    n_folds: int = 5,
    confidence: float = 0.9,
) -> dict:
    """The rule that calls the grades of (``raw``, ``labels``): ``grader`` unless ``posterior``
    (cross-validated by study: each fold called by ``method`` fitted on the others) has the
    higher balanced accuracy in at least ``confidence`` of the study resamples (``share_won``).

    Args:
        raw: [n, 3] the grader's probabilities; groups: [n] their studies.
        priors: [n, 3] each row's training frequencies (``row_priors``).
        method: the calibration method validation kept (``fit_calibration``).
        decisions: the rules allowed; one alone is taken as it is.

    Returns:
        ``decision``, ``cross_validated_balanced_accuracy`` per rule and ``posterior_won``
        (the share of resamples).

    Raises:
        ValueError: no rule, or an unknown one.
    """
    unknown = sorted(set(decisions) - set(DECISIONS))
    if unknown or not decisions:
        raise ValueError(f"calibration.decisions: {unknown or 'none'}; known: {list(DECISIONS)}")
    raw, labels = np.asarray(raw, dtype=float), np.asarray(labels, dtype=int)
    groups, priors = np.asarray(groups), np.asarray(priors, dtype=float)
    held_out = np.zeros(len(labels), dtype=int)
    for held in study_folds(groups, max(2, min(n_folds, len(np.unique(groups))))):
        rest = np.setdiff1d(np.arange(len(labels)), held)
        fitted = fit_method(raw[rest], labels[rest], method, l2)
        held_out[held] = decide(
            posterior(raw[held], fitted["temperature"], fitted["bias"]), priors[held]
        )
    grades = {"grader": raw.argmax(axis=1), "posterior": held_out}
    scores = {d: _balanced_accuracy(labels, grades[d]) for d in decisions}
    won = share_won(labels, grades["posterior"], grades["grader"], groups)
    best = rule_by_share(decisions, won, confidence)
    return {"decision": best, "cross_validated_balanced_accuracy": scores, "posterior_won": won}


def rule_by_share(decisions, won: float, confidence: float) -> str:
    """The only rule allowed where one; else ``posterior`` where it won at least ``confidence``
    of the study resamples against the grader's own argmax, ``grader`` otherwise."""
    if len(decisions) == 1:
        return decisions[0]
    return "posterior" if wins(won, confidence) else "grader"


def decide_grades(raw: np.ndarray, calibration: dict, priors: np.ndarray) -> np.ndarray:
    """The grade of each row of ``raw`` by the calibration's ``decision`` (one written before
    the rule was chosen called by the posterior, which stays its rule).

    Raises:
        ValueError: an unknown rule.
    """
    rule = calibration.get("decision", "posterior")
    if rule not in DECISIONS:
        raise ValueError(f"calibration decision '{rule}' is not one of {list(DECISIONS)}")
    if rule == "grader":
        return np.asarray(raw, dtype=float).argmax(axis=1)
    return decide(apply_calibration(raw, calibration), priors)


def row_priors(conditions, label_priors: pd.DataFrame) -> np.ndarray:
    """[n, 3] the training frequencies of each row's RSNA condition (``label_priors``, the
    unweighted rows).

    Raises:
        ValueError: a condition without a prior (named).
    """
    plain = label_priors[~label_priors["weighted"].astype(bool)].set_index("condition")
    conditions = pd.Series(np.asarray(conditions, dtype=object))
    missing = sorted(set(conditions) - set(plain.index))
    if missing:
        raise ValueError(f"label_priors has no row for condition(s) {missing}")
    return plain.loc[conditions, PROB_COLUMNS].to_numpy(dtype=float)


def calibrated_table(
    table: pd.DataFrame, calibration: dict, label_priors: pd.DataFrame
) -> pd.DataFrame:
    """``table`` (a ``predictions`` table of one variant) with its probabilities calibrated.

    The grader's own output moves to ``raw_<column>`` (and ``raw_predicted``); ``PROB_COLUMNS``
    become the probabilities to submit and ``predicted`` the grade of ``decide_grades``.

    Raises:
        ValueError: predictions calibrated already, or a condition without a prior.
    """
    if RAW_PROB_COLUMNS[0] in table.columns:
        raise ValueError("these predictions are calibrated already")
    raw = table[PROB_COLUMNS].to_numpy(dtype=float)
    out = table.rename(
        columns={
            **dict(zip(PROB_COLUMNS, RAW_PROB_COLUMNS, strict=True)),
            "predicted": "raw_predicted",
        }
    )
    submitted = submission_probabilities(apply_calibration(raw, calibration))
    for k, column in enumerate(PROB_COLUMNS):
        out[column] = submitted[:, k]
    priors = row_priors(table["condition"], label_priors)
    out["predicted"] = decide_grades(raw, calibration, priors).astype(np.int64)
    return out
