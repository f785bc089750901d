"""Finding the canal point of every lumbar level on each study's chosen sagittal T2 series."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from disc_grade.localiser.data import build_grids, series_geometry
from disc_grade.localiser.train import predict_series

logger = logging.getLogger(__name__)

POINT_COLUMNS = ["study_id", "series_id", "level", "slice_rank", "x", "y", "peak"]
LEVEL_NOT_FOUND = "no confident canal point inside the image for this level"


def localise_chosen_series(
    root: Path,
    targets: pd.DataFrame,
    series: pd.DataFrame,
    model: torch.nn.Module,
    grid_size: int,
    min_peak: float,
) -> pd.DataFrame:
    """Mid-canal slice and the five canal points of every chosen series, a status per level.

    Args:
        targets: ``choose_sagittal_t2`` rows; only those with status ``ok`` are localised.
        min_peak: localiser confidence below which a level counts as not found.
    """
    chosen = targets[targets["status"] == "ok"].astype({"series_id": "int64"})
    meta = series_geometry(chosen, series)
    grids, index, failures = build_grids(root, meta, grid_size)
    points = (
        predict_series(model, np.asarray(grids), index[index["rank"] == 0])
        if len(index)
        else pd.DataFrame(columns=POINT_COLUMNS)
    )
    points = points.merge(
        meta.drop(columns="instances_in_order"), on=["study_id", "series_id"], how="left"
    )
    inside = (
        (points["x"] >= 0)
        & (points["y"] >= 0)
        & (points["x"] <= points["columns"] - 1)
        & (points["y"] <= points["rows"] - 1)
    )
    found = inside & (points["peak"] >= min_peak)
    points["status"] = np.where(found, "ok", "level_not_found")
    points["reason"] = np.where(found, "", LEVEL_NOT_FOUND)
    for row in failures.itertuples():
        logger.warning(
            "inference: study %s series %s not decodable: %s",
            row.study_id,
            row.series_id,
            row.detail,
        )
    return points
