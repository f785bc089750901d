"""A condition family without a training target is skipped, not fatal to the run.

No sagittal T1 or axial T2 series anywhere, no filled label cell, or no slice at a disc: the
family's alignment then lists every cell with its reason and returns no target (``status``
says so), and every later node of the family returns its empty output instead of running, so
the canal and the other family run to the end. The RSNA score scores the skipped targets at the
training prior, the report names the family and its reason counts, and inference flags its
targets.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from disc_grade.models.predict import prediction_table
from disc_grade.rsna import PROB_COLUMNS

logger = logging.getLogger(__name__)
NOT_TRAINED = "condition_not_trained"  # exclusion reason of cells whose family is skipped
SKIPPED = {"skipped": True, "reason": "no target of this condition in the training split"}


def skipped_when_empty(func: Callable, empty: Callable[[], Any], arg: int = 0) -> Callable:
    """``func``, returning ``empty()`` without running when its ``arg``-th input has no rows.

    The signature stays ``func``'s (Kedro checks a node's inputs against it).
    """

    @functools.wraps(func)
    def wrapper(*args):
        if len(args[arg]) == 0:
            logger.info("%s: nothing to do, the condition is skipped", func.__name__)
            return empty()
        return func(*args)

    return wrapper


def family_status(family: str, targets: pd.DataFrame, reconciliation: pd.DataFrame) -> dict:
    """Whether the family trains, and its label cells by outcome (for the log and the report)."""
    excluded = {
        column.removeprefix("excluded_"): int(reconciliation[column].sum())
        for column in reconciliation
        if column.startswith("excluded_")
    }
    excluded = {k: v for k, v in sorted(excluded.items(), key=lambda kv: -kv[1]) if v}
    status = {
        "family": family,
        "trained": bool(len(targets)),
        "label_cells": int(reconciliation["label_cells"].sum()),
        "targets": int(len(targets)),
        "excluded": excluded,
    }
    if not status["trained"]:
        reasons = ", ".join(f"{k}: {v}" for k, v in excluded.items()) or "no label cells"
        status["reason"] = f"no usable training target ({reasons})"
    return status


def empty_predictions() -> pd.DataFrame:
    """The family ``predictions`` contract without rows."""
    rows = pd.DataFrame(
        {
            "study_id": pd.Series(dtype="int64"),
            "condition": pd.Series(dtype=str),
            "level": pd.Series(dtype=str),
            "split": pd.Series(dtype=str),
            "label": pd.Series(dtype="int64"),
            "point_x": pd.Series(dtype=float),
            "point_y": pd.Series(dtype=float),
            "roi_mm_per_px": pd.Series(dtype=float),
        }
    )
    return prediction_table(rows, np.zeros((0, len(PROB_COLUMNS))), np.zeros((0, 2)), "", 1)


def empty_rois(size_px: int) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame]:
    """No ROIs, no index rows, no exclusions."""
    return np.zeros((0, 3, size_px, size_px), dtype=np.float16), pd.DataFrame(), pd.DataFrame()


def skipped_figure():
    """The gallery of a skipped family: a figure that says so."""
    from disc_grade.plotting import plt

    fig, ax = plt.subplots(figsize=(4, 1.5))
    ax.axis("off")
    ax.text(0.5, 0.5, "no ROIs: the condition was skipped", ha="center", va="center")
    return fig
