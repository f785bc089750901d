"""Nodes of the evaluation pipeline: metrics, figures and the report from ``predictions``."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from disc_grade.datasets import DicomTree
from disc_grade.dicom.extract import RoiSpec
from disc_grade.evaluation import figures
from disc_grade.evaluation.ceiling import ceilings, truth_of
from disc_grade.evaluation.families_report import family_section, localiser_section, rsna_section
from disc_grade.evaluation.metrics import evaluate_split
from disc_grade.evaluation.render import html_report, markdown_report
from disc_grade.evaluation.report import sections
from disc_grade.inference.end_to_end import grade_at_localised_points
from disc_grade.jsonable import json_ready
from disc_grade.models.predict import load_grader
from disc_grade.models.saliency import gradcam
from disc_grade.pipelines.finetuning.pipeline import by_variant
from disc_grade.rsna import SEVERITIES, SPINAL

logger = logging.getLogger(__name__)


def compute_metrics(predictions: pd.DataFrame, params: dict[str, Any]) -> tuple[dict, pd.DataFrame]:
    """``metrics.json`` (variant -> split -> metric) and the same figures as a long table."""
    metrics: dict = {}
    for (variant, split), table in predictions.groupby(["variant", "split"], sort=False):
        metrics.setdefault(variant, {})[split] = evaluate_split(
            table,
            int(params["n_resamples"]),
            int(params["seed"]),
            int(params["n_bins"]),
        )
    metrics = json_ready(metrics)
    for variant, by_split in metrics.items():
        m = by_split.get("test", {})
        logger.info(
            "evaluation %s test: balanced accuracy %s, severe-to-normal %s (%s), RSNA spinal %s",
            variant,
            m.get("balanced_accuracy"),
            m.get("severe_to_normal_rate"),
            m.get("severe_to_normal_count"),
            m.get("rsna_spinal_score"),
        )
    long = pd.DataFrame(
        [
            {"variant": v, "split": s, "metric": k, "value": val}
            for v, by_split in metrics.items()
            for s, m in by_split.items()
            for k, val in m.items()
        ]
    )
    return metrics, long


def confusion_pairs(predictions: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per variant, the (actual, predicted) class names of its test discs (``dvc plots`` confusion)."""
    names = np.array(SEVERITIES)
    test = predictions[predictions["split"] == "test"]
    return {
        variant: pd.DataFrame(
            {
                "actual": names[test.loc[test["variant"] == variant, "label"].to_numpy()],
                "predicted": names[test.loc[test["variant"] == variant, "predicted"].to_numpy()],
            }
        )
        for variant in predictions["variant"].unique()
    }


def plot_confusion(predictions: pd.DataFrame):
    return figures.confusion_figure(predictions)


def plot_per_level(metrics: dict):
    return figures.per_level_figure(metrics)


def plot_reliability(predictions: pd.DataFrame, params: dict[str, Any]):
    return figures.reliability_figure(predictions, n_bins=int(params["n_bins"]))


def plot_worst_errors(
    predictions: pd.DataFrame,
    disc_rois: np.ndarray,
    roi_index: pd.DataFrame,
    contrastive_model: dict,
    scratch_model: dict,
    frozen_model: dict,
    encoder_params: dict,
    params: dict[str, Any],
):
    """Truly Severe test discs with the lowest P(Severe) across variants, with Grad-CAM of that variant."""
    models = by_variant(contrastive_model, scratch_model, frozen_model)
    severe = predictions[(predictions["split"] == "test") & (predictions["label"] == 2)]
    worst = severe.sort_values("p_severe").head(int(params["worst_k"])).reset_index(drop=True)
    n_missed = int((severe["predicted"] == 0).sum())
    title = f"Truly Severe test discs with the lowest P(Severe) ({n_missed} graded Normal/Mild across variants)"
    if worst.empty:
        return figures.worst_errors_figure(
            np.zeros((0, 3, 1, 1)), worst, None, "Truly Severe test discs"
        )
    where = roi_index.reset_index().set_index(["study_id", "level"])["roi"]
    rows = where.loc[list(zip(worst["study_id"], worst["level"], strict=True))].to_numpy()
    rois = np.asarray(disc_rois[rows], dtype=np.float32)
    saliency = np.zeros(rois.shape[:1] + rois.shape[2:], dtype=np.float32)
    for variant, group in worst.groupby("variant"):
        model = load_grader(models[variant], encoder_params["encoder"])
        saliency[group.index.to_numpy()] = gradcam(model, rois[group.index.to_numpy()])
    return figures.worst_errors_figure(rois, worst, saliency, title)


def compute_ceiling(phantom_truth: pd.DataFrame, predictions: pd.DataFrame) -> dict:
    """The Bayes ceiling per split where the latent is known (the phantom), else why not."""
    ceiling = json_ready(ceilings(truth_of(phantom_truth, [SPINAL]), predictions))
    logger.info("evaluation: Bayes ceiling %s", ceiling)
    return ceiling


def grade_end_to_end(
    localiser_errors: pd.DataFrame,
    series: pd.DataFrame,
    images: DicomTree,
    contrastive_model: dict,
    scratch_model: dict,
    frozen_model: dict,
    roi_params: dict[str, Any],
    finetuning_params: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every variant's predictions on crops at the localiser's points; discs not cropped listed."""
    graders = by_variant(contrastive_model, scratch_model, frozen_model)
    predictions, excluded = grade_at_localised_points(
        images.root,
        localiser_errors,
        series,
        graders,
        RoiSpec.from_params(roi_params),
        finetuning_params["encoder"],
        finetuning_params["device"],
    )
    logger.info(
        "end-to-end: %d held-out discs graded at localised points, %d not cropped",
        predictions["study_id"].size // max(len(graders), 1),
        len(excluded),
    )
    return predictions, excluded


def write_report(
    metrics: dict,
    ceiling: dict,
    end_to_end_metrics: dict,
    pretraining_probe: dict,
    confusion_png: bytes,
    per_level_png: bytes,
    reliability_png: bytes,
    worst_png: bytes,
    data_source: dict,
    rsna_score: dict,
    foraminal_metrics: dict,
    foraminal_probe: dict,
    foraminal_ceiling: dict,
    subarticular_metrics: dict,
    subarticular_probe: dict,
    subarticular_ceiling: dict,
    foraminal_localiser: dict,
    subarticular_localiser: dict,
    foraminal_status: dict,
    subarticular_status: dict,
) -> tuple[str, str]:
    """``report.md`` and ``report.html`` (figures embedded); the data source is read from the data.

    The canal's sections first, then one per condition family (or why it was skipped) and the
    full RSNA score.
    """
    extra = [
        family_section(
            "foraminal", foraminal_metrics, foraminal_probe, foraminal_ceiling, foraminal_status
        ),
        family_section(
            "subarticular",
            subarticular_metrics,
            subarticular_probe,
            subarticular_ceiling,
            subarticular_status,
        ),
        localiser_section(
            {"foraminal": foraminal_localiser, "subarticular": subarticular_localiser}
        ),
        rsna_section(rsna_score),
    ]
    parts = sections(
        metrics, data_source["description"], ceiling, end_to_end_metrics, pretraining_probe, extra
    )
    pngs = {
        "confusion_matrices": confusion_png,
        "per_level_accuracy": per_level_png,
        "reliability_diagram": reliability_png,
        "worst_errors": worst_png,
    }
    return markdown_report(parts), html_report(parts, pngs)
