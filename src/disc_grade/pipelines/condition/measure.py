"""Nodes: what a condition's graders score, at the labelled points and at the localiser's."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from disc_grade.conditions import spec_of
from disc_grade.datasets import DicomTree
from disc_grade.dicom.gallery import roi_gallery
from disc_grade.evaluation import figures
from disc_grade.evaluation.ceiling import ceilings, truth_of
from disc_grade.evaluation.metrics import evaluate_split
from disc_grade.inference.grade_points import Grader, crop_points, grade_crops
from disc_grade.jsonable import json_ready
from disc_grade.models.grading.predict import as_predictions, load_grader
from disc_grade.models.grading.saliency import gradcam
from disc_grade.models.training.recipe import VARIANTS, Recipe
from disc_grade.rsna import SEVERITIES
from disc_grade.selection.shipped import grader_of, network_of

logger = logging.getLogger(__name__)


def compute_metrics(predictions: pd.DataFrame, params: dict[str, Any]) -> dict:
    """variant -> split -> every figure (``evaluation.metrics.evaluate_split``)."""
    metrics: dict = {}
    for (variant, split), table in predictions.groupby(["variant", "split"], sort=False):
        metrics.setdefault(variant, {})[split] = evaluate_split(
            table, int(params["n_resamples"]), int(params["seed"]), int(params["n_bins"])
        )
    for variant, by_split in metrics.items():
        m = by_split.get("test", {})
        logger.info(
            "%s test: balanced accuracy %s, severe-to-normal %s (%s), log loss %s",
            variant,
            m.get("balanced_accuracy"),
            m.get("severe_to_normal_rate"),
            m.get("severe_to_normal_count"),
            m.get("log_loss"),
        )
    return json_ready(metrics)


def compute_ceiling(phantom_truth: pd.DataFrame, predictions: pd.DataFrame, name: str) -> dict:
    """The Bayes ceiling per split where the latent is known (the phantom), else why not."""
    return json_ready(ceilings(truth_of(phantom_truth, spec_of(name).conditions), predictions))


def confusion_pairs(predictions: pd.DataFrame) -> list[pd.DataFrame]:
    """Per variant (``VARIANTS`` order), the (actual, predicted) class names of its test targets
    (``dvc plots``)."""
    names = np.array(SEVERITIES)
    test = predictions[predictions["split"] == "test"]
    return [
        pd.DataFrame(
            {
                "actual": names[test.loc[test["variant"] == variant, "label"].to_numpy()],
                "predicted": names[test.loc[test["variant"] == variant, "predicted"].to_numpy()],
            }
        )
        for variant in VARIANTS
    ]


def measure_predictions(
    predictions: pd.DataFrame,
    phantom_truth: pd.DataFrame,
    disc_rois: np.ndarray,
    roi_index: pd.DataFrame,
    grader_models: dict[str, dict],
    recipe: Recipe,
    params: dict[str, Any],
    name: str,
) -> tuple:
    """What the calibrated predictions score: every figure by variant and split
    (``compute_metrics``), the ceiling where the latent is known (``compute_ceiling``), each
    variant's test confusion pairs (``confusion_pairs``), and the confusion, per-level,
    reliability and worst-errors figures (``worst_errors``); and the gallery of the crops by
    severity (``roi_gallery``)."""
    metrics = compute_metrics(predictions, params)
    return (
        roi_gallery(disc_rois, roi_index),
        metrics,
        compute_ceiling(phantom_truth, predictions, name),
        *confusion_pairs(predictions),
        figures.confusion_figure(predictions),
        figures.per_level_figure(metrics),
        figures.reliability_figure(predictions, n_bins=int(params["n_bins"])),
        worst_errors(predictions, (disc_rois, roi_index), grader_models, recipe, params["worst_k"]),
    )


def worst_errors(predictions: pd.DataFrame, crops: tuple, models: dict, recipe: Recipe, k: int):
    """The ``k`` truly Severe test targets with the lowest P(Severe), with the Grad-CAM of their
    variant (``crops``: the ROIs and their index; ``models``: every variant's weights)."""
    disc_rois, roi_index = crops
    severe = predictions[(predictions["split"] == "test") & (predictions["label"] == 2)]
    worst = severe.sort_values("p_severe").head(int(k)).reset_index(drop=True)
    n_missed = int((severe["predicted"] == 0).sum())
    title = f"Truly Severe test targets with the lowest P(Severe) ({n_missed} graded Normal/Mild)"
    if worst.empty:
        return figures.worst_errors_figure(np.zeros((0, 3, 1, 1)), worst, None, title)
    where = roi_index.reset_index().set_index(["study_id", "condition", "level"])["roi"]
    keys = list(zip(worst["study_id"], worst["condition"], worst["level"], strict=True))
    rois = np.asarray(disc_rois[where.loc[keys].to_numpy()], dtype=np.float32)
    saliency = np.zeros(rois.shape[:1] + rois.shape[2:], dtype=np.float32)
    for variant, group in worst.groupby("variant"):
        model = load_grader(models[variant], recipe.network["encoder"])
        saliency[group.index.to_numpy()] = gradcam(model, rois[group.index.to_numpy()])
    return figures.worst_errors_figure(rois, worst, saliency, title)


def localised_crops(errors: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """The held-out targets the localiser found, re-pointed at its slice, with the offset (mm)
    that centres each crop on the found point while the labelled point stays the truth inside it
    (a target found on another series than the reader's keeps no truth: NaN)."""
    found = errors[errors["found"]].reset_index(drop=True)
    same = (found["series_id_pred"] == found["series_id"]).to_numpy()
    spacing = found[["pixel_spacing_col", "pixel_spacing_row"]].to_numpy(dtype=float)
    truth = found[["x", "y"]].to_numpy(dtype=float)
    guess = found[["x_pred", "y_pred"]].to_numpy(dtype=float)
    offsets = np.where(same[:, None], (guess - truth) * spacing, 0.0)
    rows = found.assign(
        series_id=found["series_id_pred"].astype("int64"),
        slice_rank=found["slice_rank"].astype("int64"),
        x=np.where(same, truth[:, 0], guess[:, 0]),
        y=np.where(same, truth[:, 1], guess[:, 1]),
        known=same,
    )
    return rows, offsets


def _end_to_end_table(graded: pd.DataFrame, name: str, roi: dict[str, Any]) -> pd.DataFrame:
    """``predictions`` of crops graded at the localiser's points; no point truth where the
    localiser chose another series than the reader's."""
    unknown = ~graded["known"].to_numpy(dtype=bool)
    graded.loc[unknown, ["point_x", "point_y"]] = np.nan
    return as_predictions(graded, name, int(roi["size_px"]))


def grade_end_to_end(
    localiser_errors: pd.DataFrame,
    series: pd.DataFrame,
    images: DicomTree,
    grader_models: dict[str, dict],
    calibration: dict,
    shipped_grader: dict,
    label_priors: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The held-out targets graded where the localiser (no label) found them, by the function
    inference grades with (``inference.grade_points``): every variant as trained and calibrated,
    and ``chosen``, the shipped grader (``selection.shipped``: what the bundle carries and
    inference grades with), and ``chosen+adabn``, the same with its BatchNorm statistics
    re-estimated on each split's crops alone (``models.grading.adapt``: how far adaptation
    without labels recovers a new site). The localisation head's error is measured on these crops against
    the localiser's point (``the centre``). Targets not found or not cropped are listed."""
    rows, offsets = localised_crops(localiser_errors)
    candidates = {v: Grader(v, grader_models[v], calibration[v]) for v in VARIANTS}
    candidates["chosen"] = grader_of(shipped_grader)
    roi, finetuning = shipped_grader["roi"], network_of(shipped_grader)
    rois, index, excluded = crop_points(rows, series, images.root, roi, offsets)  # cut once
    tables = []
    for name, grader in candidates.items():
        graded, _ = grade_crops(rois, index, grader, label_priors, finetuning)
        tables.append(_end_to_end_table(graded, name, roi))
    n_graded = len(index)
    # the shipped grader adapted to each split's crops alone (a new site's studies, unlabelled)
    adapted = replace(candidates["chosen"], adapt=True)
    for split in index["split"].unique():
        at = np.flatnonzero((index["split"] == split).to_numpy())
        own = index.iloc[at].reset_index(drop=True).assign(roi=np.arange(len(at)))
        graded, _ = grade_crops(rois[at], own, adapted, label_priors, finetuning)
        tables.append(_end_to_end_table(graded, "chosen+adabn", roi))
    missed = localiser_errors[~localiser_errors["found"]].assign(
        reason="not found by the localiser"
    )
    excluded = pd.concat([excluded, missed[["study_id", "condition", "level", "reason"]]])
    logger.info(
        "end-to-end: %d held-out targets graded at localised points (chosen: %s), %d not",
        n_graded,
        candidates["chosen"].name,
        len(excluded),
    )
    return pd.concat(tables, ignore_index=True), excluded.reset_index(drop=True)
