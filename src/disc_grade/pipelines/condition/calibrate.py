"""Nodes: each variant's calibration, fitted on validation (the choice among them: ``choice``)."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from disc_grade.evaluation.metrics import balanced_accuracy, confusion
from disc_grade.models.grading.calibration import METHODS, fit_calibration
from disc_grade.models.grading.decision import (
    DECISIONS,
    calibrated_table,
    choose_decision,
    row_priors,
)
from disc_grade.pipelines.condition.grade import combine_predictions
from disc_grade.rsna import PROB_COLUMNS

logger = logging.getLogger(__name__)


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
