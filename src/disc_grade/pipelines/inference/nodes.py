"""Nodes of the inference pipeline: a folder of studies in, a grade per lumbar level out."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from disc_grade.datasets import DicomTree
from disc_grade.dicom.extract import RoiSpec, extract_rois
from disc_grade.evaluation.saliency import load_grader
from disc_grade.inference.studies import choose_sagittal_t2, every_level, submission_rows
from disc_grade.localiser.data import build_grids, series_geometry
from disc_grade.localiser.train import predict_series
from disc_grade.models.engine import select_device
from disc_grade.models.tasks import predict
from disc_grade.phantom.anatomy import LEVEL_NAMES, SEVERITIES
from disc_grade.pipelines.localisation.nodes import load_localiser

logger = logging.getLogger(__name__)


def select_series(
    dicom_index: pd.DataFrame, series: pd.DataFrame, params: dict[str, Any]
) -> pd.DataFrame:
    """Each study's sagittal T2 series (from the optional CSV, else the headers), or why there is none."""
    csv = params.get("series_descriptions")
    descriptions = None
    if csv:
        if not Path(csv).is_file():
            raise ValueError(
                f"inference.series_descriptions: '{csv}' does not exist (leave it null to use the headers)"
            )
        descriptions = pd.read_csv(csv, dtype={"study_id": "int64", "series_id": "int64"})
    targets = choose_sagittal_t2(dicom_index, series, descriptions)
    logger.info(
        "inference: %d studies, %d with a sagittal T2 series",
        len(targets),
        int((targets["status"] == "ok").sum()),
    )
    return targets


def localise_studies(
    targets: pd.DataFrame,
    series: pd.DataFrame,
    images: DicomTree,
    localiser_model: dict,
    localiser_params: dict[str, Any],
    params: dict[str, Any],
) -> pd.DataFrame:
    """Mid-canal slice and the five canal points of every chosen series; a status per level."""
    chosen = targets[targets["status"] == "ok"].astype({"series_id": "int64"})
    meta = series_geometry(chosen, series)
    grids, index, failures = build_grids(
        images.root, meta, int(localiser_params.get("grid_size", 128))
    )
    model = load_localiser(localiser_model, localiser_params)
    points = (
        predict_series(model, np.asarray(grids), index[index["rank"] == 0])
        if len(index)
        else pd.DataFrame(
            columns=["study_id", "series_id", "level", "slice_rank", "x", "y", "peak"]
        )
    )
    points = points.merge(
        meta.drop(columns="instances_in_order"), on=["study_id", "series_id"], how="left"
    )
    inside = (
        (points["x"] >= 0)
        & (points["y"] >= 0)
        & (points["x"] <= points["columns"] - 1)
        & (points["y"] <= points["rows"] - 1)
    )
    found = inside & (points["peak"] >= float(params.get("min_peak", 0.2)))
    points["status"] = np.where(found, "ok", "level_not_found")
    points["reason"] = np.where(
        found, "", "no confident canal point inside the image for this level"
    )
    for row in failures.itertuples():
        logger.warning(
            "inference: study %s series %s not decodable: %s",
            row.study_id,
            row.series_id,
            row.detail,
        )
    return points


def grade_studies(
    targets: pd.DataFrame,
    points: pd.DataFrame,
    series: pd.DataFrame,
    images: DicomTree,
    contrastive_model: dict,
    scratch_model: dict,
    frozen_model: dict,
    roi_params: dict[str, Any],
    finetuning_params: dict[str, Any],
    params: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Grade every found level with the chosen variant; every requested level gets a row.

    Levels that could not be graded carry ``inference.prior`` probabilities and a flag.
    """
    variant = params.get("variant", "contrastive")
    models = {"contrastive": contrastive_model, "scratch": scratch_model, "frozen": frozen_model}
    if variant not in models:
        raise ValueError(f"inference.variant must be one of {sorted(models)}, got '{variant}'")
    grader = load_grader(models[variant], finetuning_params.get("encoder"))
    found = points[points["status"] == "ok"].copy()
    spec = RoiSpec.from_params(roi_params)
    rois, index, excluded = extract_rois(images.root, found, series, spec, workers=1)
    probs, _ = predict(grader, rois, np.arange(len(rois)), select_device("cpu"))
    graded = index[["study_id", "level"]].assign(
        p_normal_mild=probs[:, 0], p_moderate=probs[:, 1], p_severe=probs[:, 2], graded=True
    )
    table = every_level(targets["study_id"]).merge(
        targets[["study_id", "series_id", "status", "reason"]], on="study_id", how="left"
    )
    table = table.merge(
        points[["study_id", "level", "slice_rank", "x", "y", "peak", "status", "reason"]],
        on=["study_id", "level"],
        how="left",
        suffixes=("_study", ""),
    )
    table = table.merge(graded, on=["study_id", "level"], how="left")
    prior = np.asarray(params.get("prior", [0.878, 0.075, 0.047]), dtype=float)
    prior = prior / prior.sum()
    table["graded"] = table["graded"].astype("boolean").fillna(False).astype(bool)
    for k, column in enumerate(["p_normal_mild", "p_moderate", "p_severe"]):
        table[column] = table[column].fillna(prior[k])
    reason = table["reason_study"].where(table["status_study"] != "ok", table["reason"])
    table["flag"] = np.where(
        table["graded"], "", reason.fillna("level not graded").replace("", "level not graded")
    )
    if len(excluded):
        bad = excluded.set_index(["study_id", "level"])["reason"]
        keys = list(zip(table["study_id"], table["level"], strict=True))
        table["flag"] = [
            bad.get(k, f) if not g else f
            for k, f, g in zip(keys, table["flag"], table["graded"], strict=True)
        ]
    table["grade"] = np.where(
        table["graded"],
        np.array(SEVERITIES)[
            table[["p_normal_mild", "p_moderate", "p_severe"]].to_numpy().argmax(1)
        ],
        "",
    )
    table["level_name"] = table["level"].map(LEVEL_NAMES)
    table["variant"] = variant
    table = table[
        [
            "study_id",
            "level",
            "level_name",
            "series_id",
            "slice_rank",
            "x",
            "y",
            "peak",
            "graded",
            "grade",
            "p_normal_mild",
            "p_moderate",
            "p_severe",
            "flag",
            "variant",
        ]
    ]
    logger.info(
        "inference: %d levels of %d studies, %d graded, %d with prior probabilities",
        len(table),
        table["study_id"].nunique(),
        int(table["graded"].sum()),
        int((~table["graded"]).sum()),
    )
    return table, submission_rows(table)


def plot_studies(table: pd.DataFrame, series: pd.DataFrame, images: DicomTree) -> dict:
    """One figure per study (drawn lazily when saved): the chosen slice with points and grades."""
    from disc_grade.inference.figures import study_figure

    figures = {}
    for study_id, rows in table.groupby("study_id"):
        figures[str(study_id)] = lambda r=rows: study_figure(images.root, r, series)
    return figures
