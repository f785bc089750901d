"""Node: every variant's calibration, its method and the rule that calls a grade chosen out of
fold where there are study folds, then fitted on the validation split as the grader ships.

Without folds both are chosen by cross-validation within the validation split
(``calibrate.calibrate_on_validation``: a few dozen studies). With study folds each candidate
method and rule is applied as it would ship to every fold model (fitted on that fold model's own
validation rows) and scored on the studies the fold left out: every training and validation
study, each once. The method of the lowest out-of-fold weighted log loss is kept; the posterior
rule only where its balanced accuracy beats the grader's own argmax in ``confidence`` of the
study resamples of those rows, as on the split. With leave-site-out folds, each method's log
loss on the sites its fold models never trained on weighs in on the method, and the posterior
rule's share of won resamples there on the rule (``leave_site_out.weight``, as in the
variant's choice). The shipped grader's calibration is
then fitted on the validation split with that method and rule (the fold models are not what
ships)."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from disc_grade.models.grading.calibration import lowest_loss
from disc_grade.models.grading.decision import candidates, rule_by_share
from disc_grade.models.grading.predict import combine_predictions
from disc_grade.selection.calibrate import calibrate_on_validation
from disc_grade.selection.fold_calibration import (
    left_out_site_figures,
    method_losses,
    rule_figures,
)
from disc_grade.selection.fold_cells import of_kind
from disc_grade.selection.judging import Judging
from disc_grade.selection.out_of_fold import as_shipped

logger = logging.getLogger(__name__)


def _weighed(in_site: dict[str, float], sites: dict[str, Any]) -> str:
    """The method of the lowest loss, the left-out sites' weighing in where measured."""
    if not sites:
        return lowest_loss(in_site)
    weight = sites["weight"]
    return lowest_loss(
        {m: (1 - weight) * in_site[m] + weight * sites["log_loss"][m] for m in in_site}
    )


def _rule(rules, won: float, sites: dict[str, Any], method: str, confidence: float) -> str:
    """``grader`` unless the posterior rule won ``confidence`` of the study resamples (in-site,
    and the left-out sites' share weighing in where measured); the only rule where one."""
    if sites and len(rules) > 1:
        won = (1 - sites["weight"]) * won + sites["weight"] * sites["posterior_won"][method]
    return rule_by_share(rules, won, confidence)


def out_of_fold_calibration(
    folds: pd.DataFrame,
    label_priors: pd.DataFrame,
    params: dict[str, Any],
    sites: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The calibration method and the rule one variant's study-fold models say to ship with (see
    the module): each method's out-of-fold weighted log loss (the left-out sites' weighing in,
    ``fold_calibration.left_out_site_figures``), each rule's balanced accuracy under the method
    kept, and the share of study resamples the posterior rule won (the sites weighing in).

    Args:
        folds: one variant's ``study_fold_predictions`` rows.
        params: the ``calibration`` block (``methods``, ``decisions``, ``confidence``, ...).

    Raises:
        ValueError: an unknown method or rule, or a target left out twice.
    """
    _, rules = candidates(params)
    losses, rows = method_losses(folds, label_priors, params, "study")
    method = _weighed(losses, sites or {})
    accuracy, won = rule_figures(folds, label_priors, params, method, "study")
    confidence = float(params.get("confidence", 0.9))
    rule = _rule(rules, won, sites or {}, method, confidence)
    return {
        "method": method,
        "decision": rule,
        "log_loss": losses,
        "balanced_accuracy": accuracy,
        "posterior_won": won,
        "folds": int(folds["fold_left_out"].nunique()),
        "n_targets": int(len(rows)),
        "n_studies": int(rows["study_id"].nunique()),
    }


def _split_and_sites(
    table: pd.DataFrame, on_split: dict, sites: dict, label_priors: pd.DataFrame, params: dict
) -> dict[str, str]:
    """Without study folds: the method and rule by the validation split's cross-validated
    figures, the left-out sites weighing in."""
    method = _weighed(on_split["cross_validated_log_loss"], sites)
    narrowed, _ = calibrate_on_validation(table, label_priors, {**params, "methods": [method]})
    won = narrowed.get("posterior_won", float("nan"))
    rule = _rule(candidates(params)[1], won, sites, method, float(params.get("confidence", 0.9)))
    return {"method": method, "decision": rule}


def _calibrated(
    table: pd.DataFrame,
    folds: pd.DataFrame,
    sites: dict[str, Any],
    label_priors: pd.DataFrame,
    params: dict,
) -> tuple[dict, pd.DataFrame]:
    """One variant's calibration (its method and rule out of fold where ``folds`` has rows, the
    left-out sites weighing in where ``sites`` has figures) and its table."""
    on_split, calibrated = calibrate_on_validation(table, label_priors, params)
    if folds.empty and not sites:
        return on_split, calibrated
    chosen = out_of_fold_calibration(folds, label_priors, params, sites) if len(folds) else None
    choice = chosen or _split_and_sites(table, on_split, sites, label_priors, params)
    fitted, calibrated = calibrate_on_validation(table, label_priors, as_shipped(params, choice))
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
    variant_predictions: pd.DataFrame,
    fold_predictions: pd.DataFrame,
    label_priors: pd.DataFrame,
    judging: Judging,
) -> tuple[dict, pd.DataFrame]:
    """Per variant (in the order ``variant_predictions`` names them) its calibration (the method
    and rule out of fold with study folds, the left-out sites weighing in on the method with
    ``leave_site_out.weight`` (``judging``) where there are site folds; fitted on validation), and every
    variant's predictions calibrated by it; ``fold_predictions`` holds the folds of both kinds
    (``fold_cells.fold_rows``)."""
    study_fold_predictions, site_fold_predictions = (
        of_kind(fold_predictions, kind) for kind in ("study", "site")
    )
    calibration, tables = {}, []
    params = judging.calibration
    weight = float(judging.leave_site_out.get("weight", 0.5))
    for variant in variant_predictions["variant"].astype(str).unique():
        table = variant_predictions[variant_predictions["variant"] == variant]
        table = table.reset_index(drop=True)
        folds = study_fold_predictions[study_fold_predictions["variant"] == variant]
        site_folds = site_fold_predictions[site_fold_predictions["variant"] == variant]
        sites = left_out_site_figures(site_folds, label_priors, params, weight)
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
