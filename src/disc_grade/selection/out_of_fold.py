"""Nodes: study folds (``models.training.folds``) and what they say of each candidate: its
calibrated log loss on the studies its fold models never saw, over every training and
validation study instead of the validation split alone. What the fold models' average ships
with is ``fold_average``'s."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pandas as pd

from disc_grade.alignment.split import EXTERNAL_TEST
from disc_grade.evaluation.log_loss import weighted_log_loss
from disc_grade.evaluation.metrics import balanced_accuracy, confusion
from disc_grade.models.grading.decision import calibrated_table
from disc_grade.models.training.fold_plan import RULES
from disc_grade.rsna import PROB_COLUMNS
from disc_grade.selection.calibrate import calibrate_on_validation

logger = logging.getLogger(__name__)
TEST_SPLITS = ("test", EXTERNAL_TEST)  # graded by every fold model (their average ships)
OUT_OF_FOLD = "out_of_fold"  # the variant of the out-of-fold rows the study stacker reads


def as_shipped(params: dict[str, Any], fitted: dict | None) -> dict[str, Any]:
    """The ``calibration`` block narrowed to the method and rule a variant ships with (its
    ``fitted`` calibration, or a choice of them), so that a fold model is calibrated as the
    variant ships; unchanged without one."""
    if not fitted or "method" not in fitted:
        return params
    return {**params, "methods": [fitted["method"]], "decisions": [fitted["decision"]]}


def calibrated_left_out(
    folds: pd.DataFrame,
    kind: str,
    label_priors: pd.DataFrame,
    calibration: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One variant's left-out rows over every fold of ``kind`` (``study`` or ``site``, grouped by
    the kind's fold column), calibrated as it ships: per fold, fitted on that fold model's own
    validation rows, then applied to the rows it left out as trained and, where the fold has
    them, as adapted (empty otherwise; inference calibrates an adapted grader with its
    unadapted calibration too)."""
    rule = RULES[kind]
    plain, adapted = [], []
    extra = [rule.column, "adapted"]
    for _, fold in folds.groupby(rule.column, sort=True):
        own = fold[~fold["adapted"]].drop(columns=extra)
        fitted, calibrated = calibrate_on_validation(own, label_priors, calibration)
        plain.append(calibrated[calibrated["split"] == rule.out_split])
        rows = fold[fold["adapted"]].drop(columns=extra)
        adapted.append(calibrated_table(rows, fitted, label_priors))
    return pd.concat(plain, ignore_index=True), pd.concat(adapted, ignore_index=True)


def left_out_by_variant(
    table: pd.DataFrame,
    kind: str,
    label_priors: pd.DataFrame,
    calibration: dict[str, Any],
    fitted: dict[str, dict] | None = None,
) -> Iterator[tuple[str, pd.DataFrame, pd.DataFrame]]:
    """Per variant of a table of ``kind``'s folds: its name and its left-out rows calibrated as
    it ships (by its method and rule in ``fitted``, the ``calibration`` node's output, where
    given), as trained and adapted (``calibrated_left_out``); nothing without rows."""
    if table.empty:
        return
    for variant, folds in table.groupby("variant", sort=False):
        params = as_shipped(calibration, (fitted or {}).get(str(variant)))
        plain, adapted = calibrated_left_out(folds, kind, label_priors, params)
        yield str(variant), plain, adapted


def out_of_fold_scores(
    study_fold_predictions: pd.DataFrame,
    label_priors: pd.DataFrame,
    calibration: dict[str, Any],
    fitted: dict[str, dict] | None = None,
) -> dict[str, dict]:
    """Per variant, the calibrated weighted log loss and balanced accuracy of its fold models on
    the studies they left out, every training and validation study once, each fold model
    calibrated by the variant's method and rule (``fitted``, where given). Empty without folds.

    Raises:
        ValueError: a study graded out of fold twice for one variant.
    """
    scores = {}
    by_variant = left_out_by_variant(
        study_fold_predictions, "study", label_priors, calibration, fitted
    )
    for variant, left_out, _ in by_variant:
        keys = ["study_id", "condition", "level"]
        if left_out.duplicated(keys).any():
            raise ValueError(f"study_fold_predictions[{variant}]: a target is left out twice")
        labels = left_out["label"].to_numpy(dtype=int)
        scores[str(variant)] = {
            "folds": int(study_fold_predictions["fold_left_out"].nunique()),
            "n_targets": int(len(left_out)),
            "n_studies": int(left_out["study_id"].nunique()),
            "log_loss": weighted_log_loss(labels, left_out[PROB_COLUMNS].to_numpy(float)),
            "balanced_accuracy": balanced_accuracy(
                confusion(labels, left_out["predicted"].to_numpy(int))
            ),
        }
        logger.info(
            "out of fold[%s]: log loss %.4f, balanced accuracy %.3f on %d targets of %d studies "
            "(%d folds)",
            variant,
            scores[str(variant)]["log_loss"],
            scores[str(variant)]["balanced_accuracy"],
            len(left_out),
            scores[str(variant)]["n_studies"],
            scores[str(variant)]["folds"],
        )
    return scores


def shipped_out_of_fold(
    study_fold_predictions: pd.DataFrame,
    label_priors: pd.DataFrame,
    calibration_params: dict[str, Any],
    calibration: dict[str, dict],
    chosen_grader: dict,
) -> pd.DataFrame:
    """The chosen variant's out-of-fold rows (every training and validation study once, each
    from a fold model that never saw it), calibrated as the variant ships: what the joint stage's
    study stacker learns from. No rows without folds."""
    variant = str(chosen_grader.get("variant"))
    folds = study_fold_predictions[study_fold_predictions["variant"] == variant]
    if folds.empty:
        return folds.drop(columns=["adapted"])
    params = as_shipped(calibration_params, calibration.get(variant))
    plain, _ = calibrated_left_out(folds, "study", label_priors, params)
    return plain.reset_index(drop=True)
