"""A calibration scored on fold models' left-out rows: every fold model calibrated by one method
and rule on its own validation rows, as the grader ships, then scored on the rows its fold left
out (study folds: ``FOLD_OUT``; leave-site-out folds: ``SITE_OUT``). What
``calibration_choice`` chooses the shipped grader's method and rule by."""

from __future__ import annotations

from typing import Any

import pandas as pd

from disc_grade.evaluation.log_loss import weighted_log_loss
from disc_grade.evaluation.metrics import balanced_accuracy, confusion
from disc_grade.models.grading.decision import candidates, share_won
from disc_grade.rsna import PROB_COLUMNS
from disc_grade.selection.out_of_fold import calibrated_left_out

KEYS = ["study_id", "condition", "level"]


def _left_out(folds, label_priors, params: dict, method: str, rule: str, kind: str):
    """One variant's left-out rows, every fold model calibrated by ``method`` and ``rule``."""
    narrowed = {**params, "methods": [method], "decisions": [rule]}
    plain, _ = calibrated_left_out(folds, kind, label_priors, narrowed)
    return plain.sort_values(KEYS, ignore_index=True)


def method_losses(
    folds: pd.DataFrame, label_priors: pd.DataFrame, params: dict, kind: str
) -> tuple[dict[str, float], pd.DataFrame]:
    """Each method's weighted log loss on the rows ``folds`` (of ``kind``) left out, every fold
    model calibrated by it on its own validation rows; the left-out rows.

    Raises:
        ValueError: a target left out twice.
    """
    methods, rules = candidates(params)
    by_method = {m: _left_out(folds, label_priors, params, m, rules[0], kind) for m in methods}
    rows = by_method[methods[0]]
    if rows.duplicated(KEYS).any():
        raise ValueError(f"{kind} fold predictions: a target is left out twice")
    labels = rows["label"].to_numpy(dtype=int)
    losses = {
        m: weighted_log_loss(labels, t[PROB_COLUMNS].to_numpy(float)) for m, t in by_method.items()
    }
    return losses, rows


def rule_figures(
    folds: pd.DataFrame, label_priors, params: dict, method: str, kind: str
) -> tuple[dict[str, float], float]:
    """Under ``method``, each rule's balanced accuracy on the rows ``folds`` left out, and the
    share of their study resamples in which the posterior rule beat the grader's own argmax
    (NaN unless both rules are allowed)."""
    _, rules = candidates(params)
    tables = {r: _left_out(folds, label_priors, params, method, r, kind) for r in rules}
    rows = next(iter(tables.values()))
    labels, studies = rows["label"].to_numpy(dtype=int), rows["study_id"].to_numpy()
    grades = {r: t["predicted"].to_numpy(dtype=int) for r, t in tables.items()}
    accuracy = {r: balanced_accuracy(confusion(labels, g)) for r, g in grades.items()}
    won = float("nan")
    if {"grader", "posterior"} <= set(rules):
        won = share_won(labels, grades["posterior"], grades["grader"], studies)
    return accuracy, won


def left_out_site_figures(
    site_folds: pd.DataFrame, label_priors: pd.DataFrame, params: dict, weight: float
) -> dict[str, Any]:
    """Per method, the weighted log loss on the sites one variant's leave-site-out fold models
    never trained on (as trained) and the share of study resamples the posterior rule won there;
    the ``weight`` they have in the choice. Empty without site folds or at weight 0.

    Raises:
        ValueError: a weight outside [0, 1].
    """
    if not 0 <= weight <= 1:
        raise ValueError(f"leave_site_out.weight must be in [0, 1], got {weight}")
    plain = site_folds[~site_folds["adapted"].astype(bool)] if len(site_folds) else site_folds
    if plain.empty or weight == 0:
        return {}
    losses, rows = method_losses(plain, label_priors, params, "site")
    won = {m: rule_figures(plain, label_priors, params, m, "site")[1] for m in losses}
    return {
        "log_loss": losses,
        "posterior_won": won,
        "weight": weight,
        "n_studies": int(rows["study_id"].nunique()),
    }
