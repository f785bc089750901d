"""Sagittal series as fixed-size grids for the localiser, and point conversions to and from them.

A series' slices are decoded in spatial order, normalised with the series' robust range and
resized to ``size`` x ``size`` (each axis scaled on its own). A point at pixel (x, y) of a slice
with ``columns`` x ``rows`` sits at ``(x + 0.5) * size / columns - 0.5`` on the grid.
"""

from __future__ import annotations

import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from disc_grade.dicom.pixels import read_pixels
from disc_grade.dicom.roi import robust_range
from disc_grade.dicom.series import GEOMETRY_COLUMNS


def series_geometry(pairs: pd.DataFrame, series: pd.DataFrame) -> pd.DataFrame:
    """Slice order, image size and pixel spacing of the (study_id, series_id) ``pairs``."""
    return (
        pairs[["study_id", "series_id"]]
        .drop_duplicates()
        .merge(series, on=["study_id", "series_id"])[GEOMETRY_COLUMNS]
    )


def to_grid_coords(x, y, columns, rows, size: int):
    """Image pixel coordinates to grid coordinates."""
    return (np.asarray(x) + 0.5) * size / np.asarray(columns) - 0.5, (
        np.asarray(y) + 0.5
    ) * size / np.asarray(rows) - 0.5


def from_grid_coords(gx, gy, columns, rows, size: int):
    """Grid coordinates back to image pixel coordinates."""
    return (np.asarray(gx) + 0.5) * np.asarray(columns) / size - 0.5, (
        np.asarray(gy) + 0.5
    ) * np.asarray(rows) / size - 0.5


def series_grid(
    root: Path, study_id: int, series_id: int, instances: list[int], size: int
) -> np.ndarray:
    """[n_slices, size, size] float16 grid of one series, slices in the given (spatial) order.

    Raises:
        ValueError: a slice cannot be decoded, or the slices differ in size.
    """
    slices = [
        read_pixels(Path(root) / str(study_id) / str(series_id) / f"{i}.dcm").astype(np.float32)
        for i in instances
    ]
    if len({s.shape for s in slices}) != 1:
        raise ValueError(f"series {study_id}/{series_id}: slices of different sizes")
    low, high = robust_range(slices)
    stack = torch.from_numpy((np.stack(slices) - low) / (high - low)).unsqueeze(1)
    grid = F.interpolate(
        stack, size=(size, size), mode="bilinear", align_corners=False, antialias=True
    )
    return grid[:, 0].numpy().astype(np.float16)


def _series_task(args):
    root, row, size = args
    try:
        return (
            row,
            series_grid(
                root, row["study_id"], row["series_id"], list(row["instances_in_order"]), size
            ),
            None,
        )
    except Exception as exc:  # noqa: BLE001 - reported by the caller
        return row, None, f"{type(exc).__name__}: {exc}"[:300]


def build_grids(
    root: Path, targets: pd.DataFrame, size: int, workers: int = 1
) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame]:
    """Grids of every series in ``targets`` (study_id, series_id, instances_in_order, rows, columns, ...).

    Returns:
        (slices [total, size, size] float16, one index row per slice with its series' metadata
        and ``offset`` of the series' first slice, failures with their reason)
    """
    tasks = [(str(root), row, size) for row in targets.to_dict("records")]
    arrays, rows, failures = [], [], []
    offset = 0
    # spawned, not forked: the workers resize with torch, whose thread pool a fork after the
    # parent has trained (a pipeline run) leaves locked
    pool = (
        ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"))
        if workers > 1 and len(tasks) > 1
        else None
    )
    try:
        results = pool.map(_series_task, tasks, chunksize=2) if pool else map(_series_task, tasks)
        for row, grid, error in tqdm(
            results, total=len(tasks), desc="localiser grids", unit="series", disable=None
        ):
            if grid is None:
                failures.append(
                    {
                        "study_id": row["study_id"],
                        "series_id": row["series_id"],
                        "reason": "series_not_decodable",
                        "detail": error,
                    }
                )
                continue
            meta = {k: v for k, v in row.items() if k != "instances_in_order"}
            for rank in range(len(grid)):
                rows.append({**meta, "rank": rank, "n_slices": len(grid), "offset": offset})
            arrays.append(grid)
            offset += len(grid)
    finally:
        if pool is not None:
            pool.shutdown()
    slices = np.concatenate(arrays) if arrays else np.zeros((0, size, size), dtype=np.float16)
    return (
        slices,
        pd.DataFrame(rows),
        pd.DataFrame(failures, columns=["study_id", "series_id", "reason", "detail"]),
    )
