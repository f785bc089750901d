"""Nodes of the localisation pipeline: train the disc localiser on the labelled sagittal T2 series."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from disc_grade.alignment.split import EXTERNAL_TEST
from disc_grade.datasets import DicomTree
from disc_grade.dicom.headers import cpu_workers
from disc_grade.localiser.data import build_grids, series_geometry, training_targets
from disc_grade.localiser.model import load_localiser
from disc_grade.localiser.train import localiser_metrics, predict_series, train_localiser

logger = logging.getLogger(__name__)
HELD_OUT_SPLITS = ("test", EXTERNAL_TEST)


def prepare_localiser_data(
    discs: pd.DataFrame, series: pd.DataFrame, images: DicomTree, params: dict[str, Any]
):
    """Grids of every labelled sagittal T2 series, one index row per slice, and the grid targets."""
    size = int(params["grid_size"])
    targets = series_geometry(discs, series)
    grids, index, failures = build_grids(
        images.root, targets, size, cpu_workers(params.get("workers"))
    )
    if len(failures):
        logger.warning(
            "localiser: %d series not decodable:\n%s", len(failures), failures.to_string()
        )
    logger.info(
        "localiser: %d series, %d slices at %d px",
        index["series_id"].nunique() if len(index) else 0,
        len(grids),
        size,
    )
    return grids, index, training_targets(discs, size)


def train_disc_localiser(
    grids: np.ndarray, index: pd.DataFrame, targets: pd.DataFrame, params: dict[str, Any]
):
    model, curve = train_localiser(np.asarray(grids), index, targets, params)
    return {k: v.detach().cpu() for k, v in model.state_dict().items()}, curve


def evaluate_disc_localiser(
    weights: dict,
    grids: np.ndarray,
    index: pd.DataFrame,
    discs: pd.DataFrame,
    params: dict[str, Any],
) -> tuple[dict, pd.DataFrame]:
    """Point error (mm), level assignment and slice error on the test and held-out-site studies.

    The per-disc table (with the predicted point and slice) covers both; the metrics are the
    in-site test's, with the held-out site's under ``external_test``.
    """
    model = load_localiser(weights, params["channels"])
    held_out = discs[discs["split"].isin(HELD_OUT_SPLITS)]
    series = index[(index["rank"] == 0) & index["study_id"].isin(set(held_out["study_id"]))]
    predicted = predict_series(model, np.asarray(grids), series)
    metrics, _ = localiser_metrics(predicted, held_out[held_out["split"] == "test"])
    external = held_out[held_out["split"] == EXTERNAL_TEST]
    if len(external):
        metrics["external_test"] = localiser_metrics(predicted, external)[0]
    _, per_disc = localiser_metrics(predicted, held_out)
    logger.info(
        "localiser test: median error %.2f mm, level assignment %.3f, slice exact %.3f",
        metrics["median_error_mm"] or float("nan"),
        metrics["level_assignment_accuracy"] or float("nan"),
        metrics["slice_exact"] or float("nan"),
    )
    return metrics, per_disc
