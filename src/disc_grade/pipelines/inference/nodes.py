"""Nodes of the inference pipeline: a folder of studies in, a grade per lumbar level out.

The nodes only wire: choosing series (``inference.studies``), localising (``inference.localise``),
grading (``models.predict``) and the level table (``inference.grading``) live in domain modules.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from disc_grade.datasets import DicomTree
from disc_grade.dicom.extract import RoiSpec, extract_rois
from disc_grade.inference.grading import level_table, normalised_prior, target_table
from disc_grade.inference.localise import localise_chosen_series
from disc_grade.inference.studies import choose_sagittal_t2, submission_rows
from disc_grade.localiser.model import load_localiser
from disc_grade.models.device import select_device
from disc_grade.models.predict import load_grader, predict
from disc_grade.pipelines.finetuning.pipeline import by_variant
from disc_grade.rsna import PROB_COLUMNS, SPINAL

logger = logging.getLogger(__name__)


def select_series(
    dicom_index: pd.DataFrame, series: pd.DataFrame, params: dict[str, Any]
) -> pd.DataFrame:
    """Each study's sagittal T2 series (from the optional CSV, else the headers), or why there is none."""
    csv = params["series_descriptions"]
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
    return localise_chosen_series(
        images.root,
        targets,
        series,
        load_localiser(localiser_model, localiser_params["channels"]),
        int(localiser_params["grid_size"]),
        float(params["min_peak"]),
    )


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
    """Grade every found level with ``inference.variant``; every study gets its 25 target rows."""
    variant = params["variant"]
    models = by_variant(contrastive_model, scratch_model, frozen_model)
    if variant not in models:
        raise ValueError(f"inference.variant must be one of {sorted(models)}, got '{variant}'")
    prior = normalised_prior(params["prior"])
    device = select_device(finetuning_params["device"])
    grader = load_grader(models[variant], finetuning_params["encoder"], device)
    found = points[points["status"] == "ok"]
    rois, index, excluded = extract_rois(
        images.root, found, series, RoiSpec.from_params(roi_params), workers=1
    )
    probs, _ = predict(grader, rois, np.arange(len(rois)), device)
    graded = index[["study_id", "level"]].assign(**dict(zip(PROB_COLUMNS, probs.T, strict=True)))
    spinal = level_table(targets, points, graded, excluded, prior["spinal"], variant)
    table = target_table(spinal, targets["study_id"], prior)
    return table, submission_rows(table)


def plot_studies(table: pd.DataFrame, series: pd.DataFrame, images: DicomTree) -> dict:
    """One figure per study (drawn lazily when saved): the chosen slice with points and grades."""
    from disc_grade.inference.figures import study_figure

    figures = {}
    for study_id, rows in table[table["condition"] == SPINAL].groupby("study_id"):
        figures[str(study_id)] = lambda r=rows: study_figure(images.root, r, series)
    return figures
