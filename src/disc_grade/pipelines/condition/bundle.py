"""Nodes: what a condition hands the report, as a few well-named outputs.

A condition's many results travel as one summary (``results``: its status, metrics, ceiling,
calibration, choices, context decision, localiser and end-to-end figures, and what each of its
reporting tables holds: exclusions by reason, the reconciliation of label cells, the test
confusions, the last epoch of each curve), one partitioned set of report figures
(``report_figures``) and the held-out predictions the RSNA score reads (``scored_predictions``:
every variant's, and ``chosen``, what inference ships). The tables stay files of their own (DVC
plots them); the summary reads them so that the condition hands the next stage three datasets.
"""

from __future__ import annotations

import pandas as pd

from disc_grade.jsonable import json_ready
from disc_grade.pipelines.condition.grade import VARIANTS
from disc_grade.selection.out_of_fold import OUT_OF_FOLD

RESULTS = (
    "status",
    "metrics",
    "ceiling",
    "end_to_end_metrics",
    "encoder_probe",
    "calibration",
    "chosen_grader",
    "context_metrics",
    "localiser_metrics",
    "techniques",
    "fold_average_metrics",
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
# the condition's reporting tables, summarised into ``results`` (``summarise_table``)
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


def summarise_table(name: str, table: pd.DataFrame) -> dict:
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


def techniques(roi: dict) -> dict:
    """The settings of the techniques fixed in conf rather than chosen by the run (mirrored
    sides), for the report."""
    return {"mirror_sides": bool(roi.get("mirror_sides", False))}


def bundle_results(*results) -> dict:
    """One JSON of every summary in ``RESULTS`` order (a skipped step's as it left it), then
    each of ``TABLES`` summarised (``tables``)."""
    summaries, tables = results[: len(RESULTS)], results[len(RESULTS) :]
    out = dict(zip(RESULTS, summaries, strict=True))
    out["tables"] = {n: summarise_table(n, t) for n, t in zip(TABLES, tables, strict=True)}
    return json_ready(out)


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
