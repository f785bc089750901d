"""Nodes of the study_report pipeline: gather the grid's cells into a table, a figure and a page."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pandas as pd

from disc_grade.evaluation.label_efficiency import efficiency_figure, efficiency_table
from disc_grade.evaluation.render import Section, fmt_interval, html_report, markdown_report

logger = logging.getLogger(__name__)


def gather_study(cells: dict[str, Callable[[], pd.DataFrame]]) -> pd.DataFrame:
    """Every cell's predictions in one table (cells carry their fraction and seed).

    Raises:
        ValueError: no cell has run yet (``dvc repro study_report`` runs them).
    """
    if not cells:
        raise ValueError(
            "no label-efficiency cells in data/07_model_output/study: run `make study` "
            "(or `dvc repro study_report`)"
        )
    return pd.concat([load() for _, load in sorted(cells.items())], ignore_index=True)


def label_efficiency(
    predictions: pd.DataFrame, params: dict[str, Any], pretraining: dict[str, Any]
):
    """The table (CSV for ``dvc plots``, JSON for ``dvc metrics``), the figure, and a report page."""
    table = efficiency_table(predictions, int(params["n_resamples"]), int(params["seed"]))
    metrics = {
        variant: {
            split: {
                f"{f:g}": round(float(ba), 4)
                for f, ba in zip(rows["fraction"], rows["balanced_accuracy"], strict=True)
            }
            for split, rows in by_variant.groupby("split")
        }
        for variant, by_variant in table.groupby("variant")
    }
    shown = table.assign(
        fraction=[f"{f:.0%}" for f in table["fraction"]],
        n_train_studies=table["n_train_studies"].round().astype(int),
        balanced_accuracy=[
            fmt_interval(b, lo, hi)
            for b, lo, hi in zip(
                table["balanced_accuracy"],
                table["balanced_accuracy_ci_low"],
                table["balanced_accuracy_ci_high"],
                strict=True,
            )
        ],
    )[
        [
            "variant",
            "split",
            "fraction",
            "n_train_studies",
            "n_seeds",
            "balanced_accuracy",
            "balanced_accuracy_seed_sd",
            "severe_to_normal_rate",
            "severe_to_normal_count",
        ]
    ]
    section = Section(
        "Label efficiency",
        [
            _pretraining_sentence(pretraining)
            + " Each variant was then fine-tuned on the given share of the labelled training "
            "studies, per seed. Figures pool the seeds' predictions; intervals resample "
            "studies. Chance is 33.3%."
        ],
        header=list(shown.columns),
        rows=[
            [f"{v:.3f}" if isinstance(v, float) else str(v) for v in row]
            for row in shown.itertuples(index=False)
        ],
        figures=[("label_efficiency", "Balanced accuracy against label fraction")],
    )
    figure = efficiency_figure(table)
    logger.info("label efficiency:\n%s", shown.to_string(index=False))
    return table, metrics, figure, markdown_report([section]), section


def _pretraining_sentence(pretraining: dict[str, Any]) -> str:
    weight = float(pretraining["supervised_weight"])
    if weight == 0:
        return "Pretraining (NT-Xent) used every training-split image and no label."
    return (
        f"Pretraining used every training-split image: NT-Xent (weight {1 - weight:g}) and "
        f"SupCon (weight {weight:g}), the latter reading, per cell, only the labels of the "
        "drawn studies."
    )


def label_efficiency_page(section: Section, figure_png: bytes) -> str:
    """The HTML page of the study, figure embedded."""
    return html_report([section], {"label_efficiency": figure_png})
