"""Node: every variant's calibration, its method and the rule that calls a grade chosen out of
fold where there are study folds, then fitted on the validation split as the grader ships.

Without folds both are chosen by cross-validation within the validation split
(``calibrate.calibrate_on_validation``: a few dozen studies). With study folds each candidate
method and rule is applied as it would ship to every fold model (fitted on that fold model's own
validation rows) and scored on the studies the fold left out: every training and validation
study, each once. The method of the lowest out-of-fold weighted log loss is kept; the posterior
rule only where its balanced accuracy beats the grader's own argmax in ``confidence`` of the
study resamples of those rows, as on the split. With leave-site-out folds, each method's log
loss on the sites its fold models never trained on weighs in on the method
(``leave_site_out.weight``, as in the variant's choice). The shipped grader's calibration is
then fitted on the validation split with that method and rule (the fold models are not what
ships)."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from disc_grade.evaluation.log_loss import weighted_log_loss
from disc_grade.evaluation.metrics import balanced_accuracy, confusion
from disc_grade.models.grading.calibration import METHODS
from disc_grade.models.grading.decision import DECISIONS, share_won
from disc_grade.models.training.site_folds import SITE_OUT
from disc_grade.models.training.study_folds import FOLD_OUT
from disc_grade.pipelines.condition.calibrate import calibrate_on_validation
from disc_grade.pipelines.condition.fold_choice import as_shipped, calibrated_left_out
from disc_grade.pipelines.condition.grade import combine_predictions
from disc_grade.rsna import PROB_COLUMNS

logger = logging.getLogger(__name__)
KEYS = ["study_id", "condition", "level"]


def _left_out(folds, label_priors, params: dict, method: str, rule: str, group: str, out: str):
    """One variant's left-out rows, every fold model calibrated by ``method`` and ``rule``."""
    narrowed = {**params, "methods": [method], "decisions": [rule]}
    plain, _ = calibrated_left_out(folds, group, out, label_priors, narrowed)
    return plain.sort_values(KEYS, ignore_index=True)


def _candidates(params: dict[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The calibration methods and rules ``params`` allows.

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


def method_losses(
    folds: pd.DataFrame, label_priors: pd.DataFrame, params: dict, group: str, out: str
) -> tuple[dict[str, float], pd.DataFrame]:
    """Each method's weighted log loss on the rows ``folds`` left out (split ``out``, folds by
    ``group``), every fold model calibrated by it on its own validation rows; the left-out rows.

    Raises:
        ValueError: a target left out twice.
    """
    methods, rules = _candidates(params)
    by_method = {
        m: _left_out(folds, label_priors, params, m, rules[0], group, out) for m in methods
    }
    rows = by_method[methods[0]]
    if rows.duplicated(KEYS).any():
        raise ValueError(f"fold predictions ({group}): a target is left out twice")
    labels = rows["label"].to_numpy(dtype=int)
    losses = {
        m: weighted_log_loss(labels, t[PROB_COLUMNS].to_numpy(float)) for m, t in by_method.items()
    }
    return losses, rows


def _lowest(losses: dict[str, float]) -> str:
    return min(losses, key=lambda m: (np.nan_to_num(losses[m], nan=np.inf), METHODS.index(m)))


def left_out_site_losses(
    site_folds: pd.DataFrame, label_priors: pd.DataFrame, params: dict, weight: float
) -> dict[str, Any]:
    """Each method's weighted log loss on the sites one variant's leave-site-out fold models
    never trained on (as trained), and the ``weight`` it has in the method's choice; empty
    without site folds or at weight 0.

    Raises:
        ValueError: a weight outside [0, 1].
    """
    if not 0 <= weight <= 1:
        raise ValueError(f"leave_site_out.weight must be in [0, 1], got {weight}")
    plain = site_folds[~site_folds["adapted"].astype(bool)] if len(site_folds) else site_folds
    if plain.empty or weight == 0:
        return {}
    losses, rows = method_losses(plain, label_priors, params, "fold_site", SITE_OUT)
    return {"log_loss": losses, "weight": weight, "n_studies": int(rows["study_id"].nunique())}


def _weighed(in_site: dict[str, float], sites: dict[str, Any]) -> str:
    """The method of the lowest loss, the left-out sites' weighing in where measured."""
    if not sites:
        return _lowest(in_site)
    weight = sites["weight"]
    return _lowest({m: (1 - weight) * in_site[m] + weight * sites["log_loss"][m] for m in in_site})


def out_of_fold_calibration(
    folds: pd.DataFrame,
    label_priors: pd.DataFrame,
    params: dict[str, Any],
    sites: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The calibration method and the rule one variant's study-fold models say to ship with (see
    the module): each method's out-of-fold weighted log loss (the left-out sites' weighing in,
    ``left_out_site_losses``), each rule's balanced accuracy under the method kept, and the
    share of study resamples the posterior rule won.

    Args:
        folds: one variant's ``study_fold_predictions`` rows.
        params: the ``calibration`` block (``methods``, ``decisions``, ``confidence``, ...).

    Raises:
        ValueError: an unknown method or rule, or a target left out twice.
    """
    _, rules = _candidates(params)
    losses, rows = method_losses(folds, label_priors, params, "fold_left_out", FOLD_OUT)
    method = _weighed(losses, sites or {})
    labels = rows["label"].to_numpy(dtype=int)
    grades = {
        r: _left_out(folds, label_priors, params, method, r, "fold_left_out", FOLD_OUT)[
            "predicted"
        ].to_numpy(dtype=int)
        for r in rules
    }
    accuracy = {r: balanced_accuracy(confusion(labels, g)) for r, g in grades.items()}
    won = float("nan")
    if {"grader", "posterior"} <= set(rules):
        won = share_won(labels, grades["posterior"], grades["grader"], rows["study_id"].to_numpy())
    if len(rules) == 1:
        rule = rules[0]
    else:
        rule = "posterior" if won >= float(params.get("confidence", 0.9)) else "grader"
    return {
        "method": method,
        "decision": rule,
        "log_loss": losses,
        "balanced_accuracy": accuracy,
        "posterior_won": won,
        "folds": int(folds["fold_left_out"].nunique()),
        "n_targets": int(len(labels)),
        "n_studies": int(rows["study_id"].nunique()),
    }


def _calibrated(
    table: pd.DataFrame,
    folds: pd.DataFrame,
    sites: dict[str, Any],
    label_priors: pd.DataFrame,
    params: dict,
) -> tuple[dict, pd.DataFrame]:
    """One variant's calibration (its method and rule out of fold where ``folds`` has rows, the
    left-out sites weighing in on the method where ``sites`` has losses) and its table."""
    on_split, calibrated = calibrate_on_validation(table, label_priors, params)
    if folds.empty and not sites:
        return on_split, calibrated
    chosen = out_of_fold_calibration(folds, label_priors, params, sites) if len(folds) else None
    # without study folds the rule is chosen on the split, under the method the sites weighed
    narrowed = (
        as_shipped(params, chosen)
        if chosen
        else {**params, "methods": [_weighed(on_split["cross_validated_log_loss"], sites)]}
    )
    fitted, calibrated = calibrate_on_validation(table, label_priors, narrowed)
    extra = {"out_of_fold": chosen} if chosen else {}
    return {
        **fitted,
        # the split's own cross-validated figures for every method and rule, beside the choice
        "cross_validated_log_loss": on_split["cross_validated_log_loss"],
        "cross_validated_balanced_accuracy": on_split.get("cross_validated_balanced_accuracy"),
        **extra,
        "left_out_sites": sites or None,
        "chosen_on_split": {"method": on_split["method"], "decision": on_split["decision"]},
    }, calibrated


def calibrate_predictions(
    label_priors: pd.DataFrame,
    params: dict[str, Any],
    study_fold_predictions: pd.DataFrame,
    site_fold_predictions: pd.DataFrame,
    leave_site_out: dict[str, Any],
    *variant_predictions: pd.DataFrame,
) -> tuple[dict, pd.DataFrame]:
    """Per variant its calibration (the method and rule out of fold with study folds, the
    left-out sites weighing in on the method with ``leave_site_out.weight`` where there are site
    folds; fitted on validation), and every variant's predictions calibrated by it."""
    calibration, tables = {}, []
    weight = float(leave_site_out.get("weight", 0.5))
    for table in variant_predictions:
        variant = str(table["variant"].iloc[0])
        folds = study_fold_predictions[study_fold_predictions["variant"] == variant]
        site_folds = site_fold_predictions[site_fold_predictions["variant"] == variant]
        sites = left_out_site_losses(site_folds, label_priors, params, weight)
        fitted, calibrated = _calibrated(table, folds, sites, label_priors, params)
        calibration[variant] = fitted
        tables.append(calibrated)
        folded = fitted.get("out_of_fold")
        said = folded or {
            "log_loss": fitted["cross_validated_log_loss"],
            "balanced_accuracy": fitted.get("cross_validated_balanced_accuracy") or {},
        }
        logger.info(
            "calibration[%s]: %s (T %.2f, bias %s), grades called by %s; chosen %s: log loss %s, "
            "balanced accuracy by rule %s",
            variant,
            fitted["method"],
            fitted["temperature"],
            np.round(fitted["bias"], 2).tolist(),
            fitted["decision"],
            f"out of fold ({folded['n_studies']} studies)" if folded else "on the validation split",
            {k: round(v, 4) for k, v in said["log_loss"].items()},
            {k: round(v, 4) for k, v in said["balanced_accuracy"].items()},
        )
    return calibration, combine_predictions(*tables)
