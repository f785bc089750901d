"""Nodes of the ablation pipeline: run every recipe, then one table, one figure, one page."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from disc_grade.evaluation.ablation import (
    ablation_figure,
    ablation_section,
    ablation_table,
    choice_margin,
    chosen_recipe,
)
from disc_grade.evaluation.render import Section, html_report, markdown_report
from disc_grade.models.training.ablation import recipes_from_params, run_ablation
from disc_grade.models.training.probe import compromise_per_roi

logger = logging.getLogger(__name__)


def run_recipes(
    disc_rois: np.ndarray,
    roi_index: pd.DataFrame,
    phantom_truth: pd.DataFrame,
    ablation: dict[str, Any],
    pretraining: dict[str, Any],
    finetuning: dict[str, Any],
    variants: dict[str, dict],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every recipe x label fraction x seed: validation and test predictions, probe scores."""
    recipes = recipes_from_params(ablation["recipes"], pretraining, finetuning, variants)
    logger.info(
        "ablation: %d recipes x fractions %s x seeds %s",
        len(recipes),
        ablation["fractions"],
        ablation["seeds"],
    )
    return run_ablation(
        np.asarray(disc_rois),
        roi_index,
        recipes,
        [float(f) for f in ablation["fractions"]],
        [int(s) for s in ablation["seeds"]],
        compromise=compromise_per_roi(roi_index, phantom_truth),
        progress=lambda line: logger.info("ablation: %s", line),
    )


def report_ablation(
    predictions: pd.DataFrame,
    probes: pd.DataFrame,
    ablation: dict[str, Any],
    variants: dict[str, dict],
    evaluation: dict[str, Any],
):
    """The table (CSV), its figures for ``dvc metrics`` (JSON), the figure and the page."""
    table = ablation_table(
        predictions, probes, int(evaluation["n_resamples"]), int(evaluation["seed"])
    )
    specs = ablation["recipes"]
    candidates = [n for n, s in specs.items() if variants[s["variant"]]["init"] == "pretrained"]
    chosen = chosen_recipe(table, candidates)
    margin = choice_margin(table, candidates)
    section = ablation_section(
        table, chosen, {n: str(s.get("description", "")) for n, s in specs.items()}, margin
    )
    metrics = {
        "chosen_by_validation": chosen,
        "choice_margin": round(margin, 4) if np.isfinite(margin) else None,
        **{
            recipe: {
                f"{row['fraction']:g}": {
                    k: round(float(row[k]), 4)
                    for k in (
                        "probe_balanced_accuracy",
                        "validation_balanced_accuracy",
                        "test_balanced_accuracy",
                        "test_severe_to_normal_rate",
                    )
                    if k in row and np.isfinite(row[k])
                }
                for row in rows.to_dict("records")
            }
            for recipe, rows in table.groupby("recipe", sort=False)
        },
    }
    logger.info("ablation (chosen by validation: %s):\n%s", chosen, table.to_string(index=False))
    return table, metrics, ablation_figure(table), markdown_report([section]), section


def ablation_page(section: Section, figure_png: bytes) -> str:
    """The HTML page of the ablation, figure embedded."""
    return html_report([section], {"ablation": figure_png})
