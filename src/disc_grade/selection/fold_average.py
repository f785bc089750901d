"""Nodes: the study-fold models of a variant averaged (``models.grading.fold_average``).

Each fold model is calibrated on its own validation rows (the other folds' validation studies)
by the method and rule its variant ships with, then the fold models' tables of the test studies
are averaged: reported per variant, and, for the variant chosen where ``chosen_grader``'s
``fold_average`` says so, what the condition ships on test and what inference grades with
(``ship_fold_graders``: every fold model's weights and calibration). Test figures play no part
in any choice; the grader trained on the whole training split stays reported beside.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from disc_grade.evaluation.metrics import evaluate_split
from disc_grade.jsonable import json_ready
from disc_grade.models.grading.decision import row_priors
from disc_grade.models.grading.fold_average import averaged_table
from disc_grade.models.grading.predict import empty_predictions
from disc_grade.selection.calibrate import calibrate_on_validation
from disc_grade.selection.fold_cells import no_study_folds, of_kind
from disc_grade.selection.judging import Judging
from disc_grade.selection.out_of_fold import TEST_SPLITS, as_shipped, shipped_out_of_fold
from disc_grade.selection.sites import choose_across_sites

logger = logging.getLogger(__name__)
NO_STUDY_FOLDS = {"skipped": True, "reason": "no study folds (split.n_folds below 2)"}
ORDER = ["split", "study_id", "condition", "level"]
SHIPPED_CALIBRATION = ("method", "temperature", "bias", "decision")  # what grading reads


def fold_calibrations(
    folds: pd.DataFrame, label_priors: pd.DataFrame, params: dict[str, Any]
) -> list[tuple[str, dict, pd.DataFrame]]:
    """Per fold model of one variant (``fold_left_out``, in order): its fold, its calibration
    fitted on its own validation rows (``params``: narrowed to the variant's method and rule,
    ``fold_choice.as_shipped``) and its test rows calibrated by it, in ``ORDER``."""
    out = []
    for k, fold in folds[~folds["adapted"]].groupby("fold_left_out", sort=True):
        own = fold.drop(columns=["fold_left_out", "adapted"])
        fitted, calibrated = calibrate_on_validation(own, label_priors, params)
        held = calibrated[calibrated["split"].isin(TEST_SPLITS)].sort_values(ORDER)
        out.append((str(k), fitted, held.reset_index(drop=True)))
    return out


def _averaged(folds: pd.DataFrame, label_priors: pd.DataFrame, params: dict) -> pd.DataFrame:
    """One variant's test rows graded by its fold models together (``averaged_table``)."""
    calibrated = fold_calibrations(folds, label_priors, params)
    tables = [table for _, _, table in calibrated]
    rule = calibrated[0][1]["decision"]
    return averaged_table(tables, rule, row_priors(tables[0]["condition"], label_priors))


def fold_average(
    study_fold_predictions: pd.DataFrame,
    label_priors: pd.DataFrame,
    calibration_params: dict[str, Any],
    evaluation: dict[str, Any],
    calibration: dict[str, dict] | None = None,
) -> tuple[dict[str, dict], pd.DataFrame]:
    """Per variant, its fold models' average on the test studies: its figures per test split
    (with ``n_folds``) and its rows (with ``variant``). Empty without folds."""
    figures, tables = {}, []
    for variant, folds in study_fold_predictions.groupby("variant", sort=False):
        params = as_shipped(calibration_params, (calibration or {}).get(str(variant)))
        averaged = _averaged(folds, label_priors, params).assign(variant=str(variant))
        tables.append(averaged)
        figures[str(variant)] = {
            str(split): evaluate_split(
                rows, int(evaluation.get("n_resamples", 1000)), int(evaluation.get("seed", 0))
            )
            for split, rows in averaged.groupby("split", sort=True)
        }
        figures[str(variant)]["n_folds"] = int(folds["fold_left_out"].nunique())
    rows = pd.concat(tables, ignore_index=True) if tables else no_fold_average()
    return json_ready(figures), rows


def no_fold_average() -> pd.DataFrame:
    """``fold_average_predictions`` without a fold."""
    return empty_predictions()


def ship_fold_graders(
    study_fold_graders: dict[str, dict],
    study_fold_predictions: pd.DataFrame,
    chosen_grader: dict,
    calibration: dict[str, dict],
    label_priors: pd.DataFrame,
    calibration_params: dict[str, Any],
) -> dict:
    """What inference averages where ``chosen_grader['fold_average']``: the chosen variant's
    fold models, each with its weights and its calibration (``fold_calibrations``), under
    ``folds`` by fold; and ``variant``. Empty where the whole-split grader ships.

    Raises:
        ValueError: the fold models' weights and predictions name different folds.
    """
    variant = str(chosen_grader.get("variant"))
    if not chosen_grader.get("fold_average"):
        return {}
    weights = study_fold_graders.get(variant) or {}
    folds = study_fold_predictions[study_fold_predictions["variant"] == variant]
    params = as_shipped(calibration_params, calibration.get(variant))
    calibrated = fold_calibrations(folds, label_priors, params)
    if sorted(weights) != sorted(k for k, _, _ in calibrated):
        raise ValueError(
            f"study folds of '{variant}': weights for folds {sorted(weights)}, predictions for "
            f"{sorted(k for k, _, _ in calibrated)}; run the train pipeline again"
        )
    shipped = {
        k: {
            "weights": weights[k],
            "calibration": json_ready({key: fitted[key] for key in SHIPPED_CALIBRATION}),
        }
        for k, fitted, _ in calibrated
    }
    logger.info("fold average: %d fold models of '%s' ship", len(shipped), variant)
    return {"variant": variant, "folds": shipped}


def choose_grader(
    predictions: pd.DataFrame,
    calibration: dict,
    fold_predictions: pd.DataFrame,
    study_fold_graders: dict[str, dict],
    label_priors: pd.DataFrame,
    judging: Judging,
) -> tuple[dict, dict, pd.DataFrame, dict, pd.DataFrame]:
    """The grader validation (or the folds of both kinds) chooses
    (``sites.choose_across_sites``), then what its study folds give it
    (``study_fold_choices``)."""
    site, study = (of_kind(fold_predictions, kind) for kind in ("site", "study"))
    chosen = choose_across_sites(predictions, calibration, site, study, label_priors, judging)
    return chosen, *study_fold_choices(
        study, study_fold_graders, chosen, calibration, label_priors, judging
    )


def study_fold_choices(
    study_fold_predictions: pd.DataFrame,
    study_fold_graders: dict[str, dict],
    chosen_grader: dict,
    calibration: dict[str, dict],
    label_priors: pd.DataFrame,
    judging: Judging,
) -> tuple[dict, pd.DataFrame, dict, pd.DataFrame]:
    """What the study folds give the chosen grader: every variant's fold models averaged on the
    test studies (``fold_average``: figures and rows), the fold models that ship where
    ``chosen_grader['fold_average']`` (``ship_fold_graders``), and the chosen variant's
    out-of-fold rows as it ships (``out_of_fold.shipped_out_of_fold``). Without study folds:
    ``NO_STUDY_FOLDS`` (why nothing was averaged), no rows, no fold model."""
    if study_fold_predictions.empty:
        return dict(NO_STUDY_FOLDS), no_fold_average(), {}, no_study_folds()
    calibration_params = judging.calibration
    figures, averaged = fold_average(
        study_fold_predictions, label_priors, calibration_params, judging.evaluation, calibration
    )
    shipped = ship_fold_graders(
        study_fold_graders,
        study_fold_predictions,
        chosen_grader,
        calibration,
        label_priors,
        calibration_params,
    )
    folded = shipped_out_of_fold(
        study_fold_predictions, label_priors, calibration_params, calibration, chosen_grader
    )
    return figures, averaged, shipped, folded
