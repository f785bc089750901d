"""Nodes: what a condition hands the report, as a few well-named outputs.

A condition's many results travel as one summary (``results``: its status, metrics, ceiling,
calibration, choices, context decision, localiser and end-to-end figures), one partitioned set
of report figures (``report_figures``) and the held-out predictions the RSNA score reads
(``scored_predictions``: every variant's, and ``chosen``, what inference ships). Its reporting
tables (exclusions, reconciliation, confusions, curves) stay files of their own, which DVC
plots.
"""

from __future__ import annotations

import pandas as pd

from disc_grade.jsonable import json_ready
from disc_grade.selection.out_of_fold import OUT_OF_FOLD

# what ``bundle_results`` reads: the condition's summaries and the decisions of what ships
RESULTS = (
    "status",
    "metrics",
    "ceiling",
    "end_to_end_metrics",
    "encoder_probe",
    "localiser_metrics",
    "decisions",
    "context_metrics",
    "fold_average_metrics",
    "params:roi",
)
# the report's figures: each drawn in memory as ``<name>_figure``, saved as ``figures/<name>.png``
REPORT_FIGURES = (
    "roi_gallery",
    "confusion",
    "reliability",
    "per_level",
    "worst_errors",
    "finetuning_curves",
    "pretraining_curves",
)
HELD_OUT = ("validation", "test", "external_test")


def techniques(roi: dict) -> dict:
    """The settings of the techniques fixed in conf rather than chosen by the run (mirrored
    sides), for the report."""
    return {"mirror_sides": bool(roi.get("mirror_sides", False))}


def bundle_results(
    status: dict,
    metrics: dict,
    ceiling: dict,
    end_to_end_metrics: dict,
    encoder_probe: dict,
    localiser_metrics: dict,
    decisions: dict,
    context_metrics: dict,
    fold_average_metrics: dict,
    roi: dict,
) -> dict:
    """One JSON of the condition's summaries (a skipped step's as it left it), the choices of
    what ships (``selection.shipped.ship_grader``: calibration, chosen grader; the context head's
    verdict; the fold models' average) and the techniques fixed in conf (``techniques``)."""
    return json_ready(
        {
            "status": status,
            "metrics": metrics,
            "ceiling": ceiling,
            "end_to_end_metrics": end_to_end_metrics,
            "encoder_probe": encoder_probe,
            "calibration": decisions.get("calibration"),
            "chosen_grader": decisions.get("chosen_grader"),
            "context_metrics": context_metrics,
            "localiser_metrics": localiser_metrics,
            "techniques": techniques(roi),
            "fold_average_metrics": fold_average_metrics,
        }
    )


def bundle_figures(*figures) -> dict:
    """The report's figures in ``REPORT_FIGURES`` order, keyed by name (one PNG each)."""
    return dict(zip(REPORT_FIGURES, figures, strict=True))


def scored_predictions(
    predictions: pd.DataFrame,
    context_predictions: pd.DataFrame,
    chosen_grader: dict,
    context_model: dict,
    out_of_fold_predictions: pd.DataFrame,
    fold_average_predictions: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The held-out rows of every variant's calibrated predictions, and the same targets as
    ``chosen`` grades them: the variant validation chose, or its study-context head where
    validation kept it, or on the test studies its study-fold models averaged where they ship
    (``chosen_grader['fold_average']``; as inference grades); then the chosen variant's
    out-of-fold rows (variant ``OUT_OF_FOLD``, split ``fold_out``), which the joint stage's study
    stacker learns from and takes out before the report."""
    kept = bool(context_model.get("kept"))
    variant = chosen_grader.get("variant")
    own = predictions[predictions["variant"] == variant]
    if not kept and chosen_grader.get("fold_average") and fold_average_predictions is not None:
        averaged = fold_average_predictions[fold_average_predictions["variant"] == variant]
        own = pd.concat([own[~own["split"].isin(averaged["split"].unique())], averaged])
    chosen = (context_predictions if kept else own).assign(variant="chosen")
    table = pd.concat([predictions, chosen], ignore_index=True)
    table = table[table["split"].isin(HELD_OUT)]
    if len(out_of_fold_predictions):
        oof = out_of_fold_predictions.assign(variant=OUT_OF_FOLD)
        table = pd.concat([table, oof[[c for c in table.columns if c in oof]]])
    return table.reset_index(drop=True)
