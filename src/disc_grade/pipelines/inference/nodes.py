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
from disc_grade.inference.family_targets import canal_centres, localise_targets, place_targets
from disc_grade.inference.grading import level_table, normalised_prior, target_table
from disc_grade.inference.localise import localise_chosen_series
from disc_grade.inference.studies import (
    choose_family_series,
    choose_sagittal_t2,
    submission_rows,
)
from disc_grade.localiser.families import n_points
from disc_grade.localiser.model import load_localiser
from disc_grade.models.ablation import merged
from disc_grade.models.device import select_device
from disc_grade.models.predict import load_grader, predict
from disc_grade.pipelines.finetuning.pipeline import by_variant
from disc_grade.rsna import LEVELS, PROB_COLUMNS, SEVERITIES

logger = logging.getLogger(__name__)
FAMILY_TARGET_METHODS = ("localiser", "placement")


def _descriptions(params: dict[str, Any]) -> pd.DataFrame | None:
    """The optional series-description CSV (``inference.series_descriptions``)."""
    csv = params["series_descriptions"]
    if not csv:
        return None
    if not Path(csv).is_file():
        raise ValueError(
            f"inference.series_descriptions: '{csv}' does not exist (leave it null to use the headers)"
        )
    return pd.read_csv(csv, dtype={"study_id": "int64", "series_id": "int64"})


def select_series(
    dicom_index: pd.DataFrame, series: pd.DataFrame, params: dict[str, Any]
) -> pd.DataFrame:
    """Each study's sagittal T2 series (from the optional CSV, else the headers), or why there is none."""
    targets = choose_sagittal_t2(dicom_index, series, _descriptions(params))
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
    family_grades: pd.DataFrame,
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
    table = target_table(spinal, targets["study_id"], prior, family_grades)
    return table, submission_rows(table)


def plot_studies(table: pd.DataFrame, series: pd.DataFrame, images: DicomTree) -> dict:
    """One figure per study (drawn lazily when saved): every series read, with points and grades."""
    from disc_grade.inference.figures import study_figure

    figures = {}
    for study_id, rows in table.groupby("study_id"):
        figures[str(study_id)] = lambda r=rows: study_figure(images.root, r, series)
    return figures


def grade_families(
    targets: pd.DataFrame,
    points: pd.DataFrame,
    dicom_index: pd.DataFrame,
    series: pd.DataFrame,
    images: DicomTree,
    foraminal_placement: dict,
    subarticular_placement: dict,
    foraminal_localiser: dict,
    subarticular_localiser: dict,
    foraminal_contrastive: dict,
    foraminal_scratch: dict,
    foraminal_frozen: dict,
    subarticular_contrastive: dict,
    subarticular_scratch: dict,
    subarticular_frozen: dict,
    families_params: dict[str, Any],
    localiser_params: dict[str, Any],
    finetuning_params: dict[str, Any],
    params: dict[str, Any],
) -> pd.DataFrame:
    """The foraminal and subarticular targets of every study: graded, or flagged with the reason.

    ``inference.family_targets`` says how the targets are found: ``localiser`` runs each
    family's localiser (``<family>.localiser_model``) on its series, ``placement`` places them
    from the study's canal points with the offsets learnt from the training labels
    (``<family>.placement``). They are then cropped by the training cropper with the family's
    ROI settings and graded by the family's ``inference.variant`` grader.
    """
    variant = params["variant"]
    method = params["family_targets"]
    if method not in FAMILY_TARGET_METHODS:
        raise ValueError(
            f"inference.family_targets must be one of {FAMILY_TARGET_METHODS}, got '{method}'"
        )
    descriptions = _descriptions(params)
    canal = canal_centres(points, series, dicom_index)
    device = select_device(finetuning_params["device"])
    per_family = {
        "foraminal": (
            foraminal_placement,
            foraminal_localiser,
            (foraminal_contrastive, foraminal_scratch, foraminal_frozen),
        ),
        "subarticular": (
            subarticular_placement,
            subarticular_localiser,
            (subarticular_contrastive, subarticular_scratch, subarticular_frozen),
        ),
    }
    tables = []
    for family, (placement, localiser_weights, models) in per_family.items():
        if not by_variant(*models)[variant] or not localiser_weights:
            logger.warning(
                "inference[%s]: no grader (the training run skipped this condition); its "
                "targets get the prior",
                family,
            )
            continue
        chosen = choose_family_series(series, descriptions, family)
        if method == "placement":
            placed, missing = place_targets(
                family, canal, chosen, series, dicom_index, placement, targets["study_id"], LEVELS
            )
        else:
            settings = merged(localiser_params, families_params[family].get("localiser"))
            placed, missing = localise_targets(
                family,
                load_localiser(localiser_weights, settings["channels"], n_points(family)),
                int(settings["grid_size"]),
                float(params["min_peak"]),
                images.root,
                canal,
                chosen,
                series,
                dicom_index,
                placement,
                targets["study_id"],
                LEVELS,
                settings["slice_prior_mm"],
            )
        spec = RoiSpec.from_params(families_params[family]["roi"])
        rois, index, excluded = extract_rois(images.root, placed, series, spec, workers=1)
        settings = merged(finetuning_params, families_params[family].get("finetuning"))
        grader = load_grader(by_variant(*models)[variant], settings["encoder"], device)
        probs, _ = predict(grader, rois, np.arange(len(rois)), device)
        graded = index[["study_id", "condition", "level", "series_id", "slice_rank", "x", "y"]]
        graded = graded.assign(
            graded=True,
            grade=np.array(SEVERITIES)[probs.argmax(1)] if len(probs) else [],
            flag="",
            **dict(zip(PROB_COLUMNS, probs.T, strict=True)),
        )
        flagged = pd.concat(
            [missing, excluded[["study_id", "condition", "level", "reason"]]], ignore_index=True
        )
        flagged = flagged.rename(columns={"reason": "flag"}).assign(graded=False, grade="")
        tables += [graded, flagged]
        logger.info(
            "inference[%s]: %d targets (%s) graded, %d flagged (%s)",
            family,
            len(graded),
            method,
            len(flagged),
            ", ".join(f"{k}: {v}" for k, v in flagged["flag"].value_counts().items()) or "none",
        )
    return pd.concat(tables, ignore_index=True).assign(variant=variant)
