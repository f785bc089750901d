"""Each variant's calibration fitted on validation, and its score there (the node that fits every
variant's, out of fold where there are study folds: ``calibration_choice``; the choice among
the variants: ``choice``)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from disc_grade.evaluation.metrics import balanced_accuracy, confusion
from disc_grade.models.grading.calibration import fit_calibration
from disc_grade.models.grading.decision import (
    calibrated_table,
    candidates,
    choose_decision,
    row_priors,
)
from disc_grade.rsna import PROB_COLUMNS


def calibrate_on_validation(
    table: pd.DataFrame, label_priors: pd.DataFrame, params: dict[str, Any]
) -> tuple[dict, pd.DataFrame]:
    """One grader's calibration fitted on its ``table``'s validation rows
    (``models.calibration``) with the rule that calls its grades (``models.decision``), and the
    table calibrated by it (its own output kept as ``raw_*``).

    Raises:
        ValueError: an unknown method in ``calibration.methods`` or rule in ``decisions``.
    """
    methods, decisions = candidates(params)
    val = table[table["split"] == "validation"]
    raw, labels = val[PROB_COLUMNS].to_numpy(dtype=float), val["label"].to_numpy(dtype=int)
    l2, folds = float(params["l2"]), int(params["folds"])
    fitted = fit_calibration(raw, labels, val["study_id"].to_numpy(), methods, l2, folds)
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
        fitted["decision"] = decisions[0]
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
