"""Nodes: what a condition hands the report, as a few well-named outputs.

A condition's many results travel as one summary (``results``: its status, metrics, ceiling,
calibration, choices, the probe of the chosen grader's features, localiser and end-to-end figures,
and what each of its reporting tables holds), one partitioned set of report figures
(``report_figures``) and the held-out predictions the RSNA score reads (``scored_predictions``:
every variant's, and ``chosen``, what inference ships). The tables stay files of their own (DVC
plots them); the summary and the figures read them, so that the condition hands the next stage three
datasets.
"""

from __future__ import annotations

import pandas as pd

from disc_grade.jsonable import json_ready
from disc_grade.models.training.curves import curve_figure
from disc_grade.models.training.recipe import VARIANTS
from disc_grade.pipelines.condition.skip import skipped_figure
from disc_grade.selection.out_of_fold import OUT_OF_FOLD

# what ``bundle_results`` reads: the condition's summaries and the decisions of what ships
RESULTS = (
    "table_summaries",
    "metrics",
    "ceiling",
    "end_to_end_metrics",
    "encoder_probe",
    "localiser_metrics",
    "decisions",
    "feature_probe",
    "fold_average_metrics",
    "params:roi",
)
# the report's figures: each drawn in memory as ``<name>_figure`` (the fine-tuning curves drawn
# here, from the variants' curves), saved as ``figures/<name>.png``
REPORT_FIGURES = (
    "roi_gallery",
    "confusion",
    "reliability",
    "per_level",
    "worst_errors",
    "finetuning_curves",
    "pretraining_curves",
)
DRAWN = tuple(f for f in REPORT_FIGURES if f != "finetuning_curves")
# the condition's reporting tables (files DVC plots), summarised into ``results``
TABLES = (
    "alignment_reconciliation",
    "alignment_exclusions",
    "roi_exclusions",
    "end_to_end_exclusions",
    *(f"{variant}_confusion" for variant in VARIANTS),
    "localiser_curve",
    "pretraining_curve",
)
HELD_OUT = ("validation", "test", "external_test")


def techniques(roi: dict) -> dict:
    """The settings of the techniques fixed in conf rather than chosen by the run (mirrored
    sides), for the report."""
    return {"mirror_sides": bool(roi.get("mirror_sides", False))}


def summarise_table(table: pd.DataFrame) -> dict:
    """What a reporting table holds, in a few numbers: rows by ``reason`` (exclusions), the
    label cells and whether they reconcile, the confusion counts, a curve's last epoch."""
    if "reason" in table:
        return {"rows": len(table), "by_reason": table["reason"].value_counts().to_dict()}
    if "balanced" in table:
        return {
            "label_cells": int(table["label_cells"].sum()),
            "balanced": bool(table["balanced"].all()),
        }
    if {"actual", "predicted"} <= set(table.columns):
        counts = table.groupby(["actual", "predicted"]).size()
        return {f"{a} as {p}": int(n) for (a, p), n in counts.items()}
    if "epoch" in table and len(table):
        return {"epochs": len(table), "last": table.iloc[-1].to_dict()}
    return {"rows": len(table)}


def summarise_tables(status: dict, *tables: pd.DataFrame) -> dict:
    """The condition's alignment ``status`` and each of ``TABLES`` summarised
    (``summarise_table``), for ``results``."""
    return {
        "status": status,
        "tables": {n: summarise_table(t) for n, t in zip(TABLES, tables, strict=True)},
    }


def bundle_results(
    table_summaries: dict,
    metrics: dict,
    ceiling: dict,
    end_to_end_metrics: dict,
    encoder_probe: dict,
    localiser_metrics: dict,
    decisions: dict,
    feature_probe: dict,
    fold_average_metrics: dict,
    roi: dict,
) -> dict:
    """One JSON of the condition's summaries (a skipped step's as it left it), the choices of
    what ships (``selection.shipped.ship_grader``: calibration, chosen grader; the fold models'
    average), what the chosen grader's features hold (``feature_probe``) and the techniques fixed
    in conf (``techniques``)."""
    return json_ready(
        {
            "status": table_summaries["status"],
            "metrics": metrics,
            "ceiling": ceiling,
            "end_to_end_metrics": end_to_end_metrics,
            "encoder_probe": encoder_probe,
            "calibration": decisions.get("calibration"),
            "chosen_grader": decisions.get("chosen_grader"),
            "feature_probe": feature_probe,
            "localiser_metrics": localiser_metrics,
            "techniques": techniques(roi),
            "fold_average_metrics": fold_average_metrics,
            "tables": table_summaries["tables"],
        }
    )


def bundle_figures(*figures_and_curves) -> dict:
    """The report's figures keyed by name (one PNG each): those drawn already (``DRAWN``
    order), then the fine-tuning curves' figure drawn from the variants' curves (in
    ``VARIANTS`` order, after them)."""
    drawn, curves = figures_and_curves[: len(DRAWN)], figures_and_curves[len(DRAWN) :]
    figures = dict(zip(DRAWN, drawn, strict=True))
    if any(len(c) == 0 or "variant" not in c for c in curves):  # a skipped condition
        figures["finetuning_curves"] = skipped_figure()
    else:
        by_variant = {str(c["variant"].iloc[0]): c for c in curves}
        figures["finetuning_curves"] = curve_figure(by_variant, "Fine-tuning")
    return {name: figures[name] for name in REPORT_FIGURES}


def scored_predictions(
    predictions: pd.DataFrame,
    chosen_grader: dict,
    out_of_fold_predictions: pd.DataFrame,
    fold_average_predictions: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The held-out rows of every variant's calibrated predictions, and the same targets as
    ``chosen`` grades them: the variant validation chose, or on the test studies its
    study-fold models averaged where they ship
    (``chosen_grader['fold_average']``; as inference grades); then the chosen variant's
    out-of-fold rows (variant ``OUT_OF_FOLD``, split ``fold_out``), which the joint stage's study
    stacker learns from and takes out before the report."""
    variant = chosen_grader.get("variant")
    own = predictions[predictions["variant"] == variant]
    if chosen_grader.get("fold_average") and fold_average_predictions is not None:
        averaged = fold_average_predictions[fold_average_predictions["variant"] == variant]
        own = pd.concat([own[~own["split"].isin(averaged["split"].unique())], averaged])
    chosen = own.assign(variant="chosen")
    table = pd.concat([predictions, chosen], ignore_index=True)
    table = table[table["split"].isin(HELD_OUT)]
    if len(out_of_fold_predictions):
        oof = out_of_fold_predictions.assign(variant=OUT_OF_FOLD)
        table = pd.concat([table, oof[[c for c in table.columns if c in oof]]])
    return table.reset_index(drop=True)
