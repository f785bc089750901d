"""Nodes: the chosen grader's features of every ROI, and the table the joint head is fitted and
chosen on (those features with the study and leave-site-out fold models')."""

from __future__ import annotations

import numpy as np
import pandas as pd

from disc_grade.jsonable import json_ready
from disc_grade.models.grading.context_grading import (
    KEYS,
    features_of,
    features_table,
    grader_features,
    probe,
)
from disc_grade.models.grading.predict import load_grader
from disc_grade.models.training.device import select_device
from disc_grade.models.training.recipe import Recipe
from disc_grade.selection.fold_cells import of_kind
from disc_grade.selection.heads import joint_site_rows, site_grader_rows, with_fold_features
from disc_grade.selection.judging import Judging
from disc_grade.selection.site_adapted import site_features_as_shipped


def chosen_features(
    disc_rois: np.ndarray,
    roi_index: pd.DataFrame,
    grader_models: dict[str, dict],
    chosen_grader: dict,
    recipe: Recipe,
) -> pd.DataFrame:
    """The chosen grader's features of every ROI with their image statistics
    (``features_table``): what the joint head reads."""
    device = select_device(recipe.network["device"])
    grader = load_grader(grader_models[chosen_grader["variant"]], recipe.network["encoder"], device)
    rois = np.asarray(disc_rois)
    index = roi_index.reset_index(drop=True)
    return features_table(grader_features(grader, rois, device), index, rois)


def site_rows_as_shipped(
    site_fold_features: pd.DataFrame,
    site_fold_predictions: pd.DataFrame,
    chosen_grader: dict,
    grader_calibration: dict,
    label_priors: pd.DataFrame,
    calibration_params: dict,
) -> pd.DataFrame:
    """The chosen variant's leave-site-out fold features with what each fold's grader gives the
    site it left out (``heads.joint_site_rows``), that site read as inference would read a new
    folder: adapted where the chosen grader adapts its BatchNorm (``site_adapted``), as trained
    otherwise. Empty without site folds."""
    variant = chosen_grader["variant"]
    adapt = bool(chosen_grader.get("adapt_batchnorm", False))
    site_features, adapted = site_features_as_shipped(site_fold_features, adapt)
    site_shipped = site_grader_rows(
        site_fold_predictions,
        variant,
        grader_calibration,
        label_priors,
        calibration_params,
        adapted,
    )
    return joint_site_rows(site_features, site_shipped, variant)


def joint_features(
    chosen_features: pd.DataFrame,
    calibration: dict,
    chosen_grader: dict,
    fold_features: pd.DataFrame,
    fold_predictions: pd.DataFrame,
    label_priors: pd.DataFrame,
    judging: Judging,
) -> tuple[dict, pd.DataFrame]:
    """What the features hold (a linear probe's balanced accuracy per held-out split,
    ``probe``), and the chosen grader's features of every ROI (with the variant and the
    calibration method it ships with) followed by its study fold models' and its leave-site-out
    fold models' (``site_rows_as_shipped``; ``heads.with_fold_features``): what the joint head
    reads and is chosen on."""
    variant = chosen_grader["variant"]
    index = chosen_features[[*KEYS, "split", "label"]]
    site_rows = site_rows_as_shipped(
        of_kind(fold_features, "site"),
        of_kind(fold_predictions, "site"),
        chosen_grader,
        calibration[variant],
        label_priors,
        judging.calibration,
    )
    shipped = chosen_features.assign(
        shipped_variant=variant, shipped_method=calibration[variant]["method"]
    )
    return (
        json_ready({"feature_probe_balanced_accuracy": probe(features_of(chosen_features), index)}),
        with_fold_features(shipped, of_kind(fold_features, "study"), variant, site_rows),
    )
