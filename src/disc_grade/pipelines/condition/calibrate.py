"""Nodes: each variant's calibration, fitted on validation, and the grader validation chooses."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from disc_grade.evaluation.log_loss import weighted_log_loss
from disc_grade.evaluation.metrics import balanced_accuracy, confusion
from disc_grade.models.grading.calibration import METHODS, fit_calibration
from disc_grade.models.grading.decision import (
    DECISIONS,
    calibrated_table,
    choose_decision,
    row_priors,
)
from disc_grade.pipelines.condition.grade import VARIANTS, combine_predictions
from disc_grade.rsna import PROB_COLUMNS, RAW_PROB_COLUMNS

logger = logging.getLogger(__name__)
CRITERIA = ("log_loss", "balanced_accuracy")


def calibrate_on_validation(
    table: pd.DataFrame, label_priors: pd.DataFrame, params: dict[str, Any]
) -> tuple[dict, pd.DataFrame]:
    """One grader's calibration fitted on its ``table``'s validation rows
    (``models.calibration``) with the rule that calls its grades (``models.decision``), and the
    table calibrated by it (its own output kept as ``raw_*``).

    Raises:
        ValueError: an unknown method in ``calibration.methods`` or rule in ``decisions``.
    """
    methods = tuple(params.get("methods", METHODS))
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        raise ValueError(f"calibration.methods: unknown {unknown}; known: {list(METHODS)}")
    val = table[table["split"] == "validation"]
    raw, labels = val[PROB_COLUMNS].to_numpy(dtype=float), val["label"].to_numpy(dtype=int)
    l2, folds = float(params["l2"]), int(params["folds"])
    fitted = fit_calibration(raw, labels, val["study_id"].to_numpy(), methods, l2, folds)
    decisions = tuple(params.get("decisions", DECISIONS))
    if len(val):
        priors = row_priors(val["condition"], label_priors)
        fitted |= choose_decision(
            raw,
            labels,
            val["study_id"].to_numpy(),
            priors,
            fitted["method"],
            decisions,
            l2,
            folds,
            float(params.get("confidence", 0.9)),
        )
    else:
        fitted["decision"] = decisions[0] if decisions else DECISIONS[0]
    return {**fitted, "n_validation": int(len(val))}, calibrated_table(table, fitted, label_priors)


def validation_score(fitted: dict, table: pd.DataFrame, by: str) -> float:
    """A calibrated grader's score on validation, higher better: its cross-validated log loss
    negated (``by: log_loss``) or the cross-validated balanced accuracy of its rule (else that of
    ``table``'s calibrated validation grades)."""
    if by == "log_loss":
        return -float(fitted["cross_validated_log_loss"][fitted["method"]])
    by_rule = fitted.get("cross_validated_balanced_accuracy") or {}
    if fitted.get("decision") in by_rule:
        return float(by_rule[fitted["decision"]])
    val = table[table["split"] == "validation"]
    if val.empty:
        return float("nan")
    return balanced_accuracy(confusion(val["label"].to_numpy(int), val["predicted"].to_numpy(int)))


def calibrate_predictions(
    label_priors: pd.DataFrame, params: dict[str, Any], *variant_predictions: pd.DataFrame
) -> tuple[dict, pd.DataFrame]:
    """Per variant a calibration fitted on its validation rows, and every variant's predictions
    calibrated by it (``calibrate_on_validation``)."""
    calibration, tables = {}, []
    for table in variant_predictions:
        variant = str(table["variant"].iloc[0])
        fitted, calibrated = calibrate_on_validation(table, label_priors, params)
        calibration[variant] = fitted
        tables.append(calibrated)
        logger.info(
            "calibration[%s]: %s (T %.2f, bias %s); cross-validated log loss %s; "
            "grades called by %s (cross-validated balanced accuracy %s)",
            variant,
            fitted["method"],
            fitted["temperature"],
            np.round(fitted["bias"], 2).tolist(),
            {k: round(v, 4) for k, v in fitted["cross_validated_log_loss"].items()},
            fitted["decision"],
            {
                k: round(v, 4)
                for k, v in fitted.get("cross_validated_balanced_accuracy", {}).items()
            },
        )
    return calibration, combine_predictions(*tables)


def validation_figures(predictions: pd.DataFrame) -> dict[str, dict]:
    """Per variant, its validation rows' balanced accuracy (the calibrated decision) and weighted
    log loss, calibrated and as the grader output it."""
    out = {}
    for variant, rows in predictions[predictions["split"] == "validation"].groupby("variant"):
        y = rows["label"].to_numpy(dtype=int)
        figures = {
            "balanced_accuracy": balanced_accuracy(confusion(y, rows["predicted"].to_numpy(int))),
            "log_loss": weighted_log_loss(y, rows[PROB_COLUMNS].to_numpy(float)),
        }
        if RAW_PROB_COLUMNS[0] in rows:
            raw = rows[RAW_PROB_COLUMNS].to_numpy(float)
            figures["log_loss_uncalibrated"] = weighted_log_loss(y, raw)
        out[str(variant)] = figures
    return out


def _weighed(
    in_site: dict[str, float], site: dict[str, dict], by: str, params: dict[str, Any]
) -> tuple[dict[str, float], dict[str, Any]]:
    """Each variant's score once the leave-site-out folds weigh in, and what they said: the
    score is ``(1 - weight)`` times the in-site one plus ``weight`` times minus its log loss on
    the left-out sites (adapted where adapting won ``confidence`` of the study resamples)."""
    weight, confidence = float(params.get("weight", 0.5)), float(params.get("confidence", 0.9))
    if not 0 <= weight <= 1:
        raise ValueError(f"leave_site_out.weight must be in [0, 1], got {weight}")
    if not site:
        why = (
            "leave_site_out.max_sites is 0"
            if params.get("max_sites", 0) == 0
            else "fewer than two training sites"
        )
        return in_site, {"used": False, "why": f"in-site validation only: {why}"}
    if by != "log_loss":
        return in_site, {"used": False, "why": "selection.by is not log_loss", "by_variant": site}
    scores, by_variant = {}, {}
    for variant, score in in_site.items():
        folds = site.get(variant)
        if folds is None:
            scores[variant] = score
            continue
        adapt = bool(folds["adapted_share_won"] >= confidence)
        loss = folds["log_loss_adapted"] if adapt else folds["log_loss"]
        by_variant[variant] = {**folds, "adapt_batchnorm": adapt, "log_loss_kept": loss}
        scores[variant] = (1 - weight) * score - weight * loss
    return scores, {
        "used": True,
        "why": f"{1 - weight:g} in-site validation + {weight:g} left-out sites",
        "weight": weight,
        "confidence": confidence,
        "by_variant": by_variant,
    }


def _best(scores: dict[str, float]) -> str:
    """The variant of the highest score (NaN lowest; a tie goes to the first in ``VARIANTS``)."""
    return max(VARIANTS, key=lambda v: (np.nan_to_num(scores[v], nan=-np.inf), -VARIANTS.index(v)))


def choose_grader(
    predictions: pd.DataFrame,
    calibration: dict,
    params: dict[str, Any],
    site_scores: dict[str, dict] | None = None,
    leave_site_out: dict[str, Any] | None = None,
) -> dict:
    """The variant validation chooses, by ``selection.by``: ``log_loss`` (calibrated, cross-
    validated by study within the validation split, so no row scores a fit it took part in) or
    ``balanced_accuracy`` (validation). ``selection.variant`` names one instead.

    With leave-site-out folds (``site_scores``: ``site_choice.left_out_site_scores``) the log
    loss on sites a variant never trained on weighs in (``leave_site_out.weight``), and they
    decide whether inference adapts the chosen grader's BatchNorm to a new folder
    (``adapt_batchnorm``); without them the choice is in-site and says so.

    Raises:
        ValueError: an unknown criterion or variant, or a weight outside [0, 1].
    """
    by = params.get("by", "log_loss")
    if by not in CRITERIA:
        raise ValueError(f"selection.by must be one of {list(CRITERIA)}, got '{by}'")
    figures = validation_figures(predictions)
    in_site = {}
    for variant in VARIANTS:
        own = predictions[predictions["variant"] == variant]
        in_site[variant] = validation_score(calibration.get(variant, {}), own, by)
    scores, weighed = _weighed(in_site, site_scores or {}, by, leave_site_out or {})
    chosen, in_site_choice = _best(scores), _best(in_site)
    override = params.get("variant")
    if override is not None and override not in VARIANTS:
        raise ValueError(
            f"selection.variant must be null or one of {list(VARIANTS)}, got '{override}'"
        )
    variant = override or chosen
    result = {
        "variant": variant,
        "chosen_by_validation": chosen,
        "chosen_in_site": in_site_choice,
        "by": by,
        "overridden": override is not None,
        "validation": {
            v: {"score": scores[v], "in_site_score": in_site[v], **figures.get(v, {})}
            for v in VARIANTS
        },
        "leave_site_out": weighed,
        "adapt_batchnorm": bool(
            weighed.get("by_variant", {}).get(variant, {}).get("adapt_batchnorm", False)
        ),
    }
    logger.info(
        "grader: %s (validation %s: %s; %s)%s",
        result["variant"],
        by,
        {v: round(s, 4) for v, s in scores.items()},
        weighed["why"],
        " -- set by selection.variant" if override else "",
    )
    return result
