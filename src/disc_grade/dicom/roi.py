"""The one ROI cropper: a fixed physical extent around a point, resampled to a fixed size.

Used by the ``roi`` pipeline (labelled points) and by inference (localised points).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.ndimage import map_coordinates

LOW_PERCENTILE, HIGH_PERCENTILE = 1.0, 99.5


def roi_centre(size_px: int) -> float:
    """Where the cropped point lands inside a ROI of ``size_px`` (same on both axes)."""
    return (size_px - 1) / 2


def robust_range(slices: Sequence[np.ndarray]) -> tuple[float, float]:
    """Low and high intensity percentiles over a series' decoded slices."""
    values = np.concatenate([np.asarray(s, dtype=np.float32).ravel() for s in slices])
    low, high = np.percentile(values, [LOW_PERCENTILE, HIGH_PERCENTILE])
    return float(low), float(max(high, low + 1e-3))


def crop(
    image: np.ndarray,
    x: float,
    y: float,
    spacing_row_col: Sequence[float],
    extent_mm: float,
    size_px: int,
    fill: float,
) -> np.ndarray:
    """Bilinear crop of ``extent_mm`` square centred on pixel (x=column, y=row).

    Pixels outside the image take ``fill``. The point lands at ``roi_centre(size_px)``.

    Raises:
        ValueError: a non-positive size, extent or spacing.
    """
    if size_px <= 0 or extent_mm <= 0 or min(spacing_row_col) <= 0:
        raise ValueError(
            f"crop needs positive size, extent and spacing; got size_px={size_px}, "
            f"extent_mm={extent_mm}, spacing={list(spacing_row_col)}"
        )
    step_mm = extent_mm / size_px
    offsets = (np.arange(size_px) - roi_centre(size_px)) * step_mm
    rows = y + offsets / float(spacing_row_col[0])
    cols = x + offsets / float(spacing_row_col[1])
    grid_r, grid_c = np.meshgrid(rows, cols, indexing="ij")
    return map_coordinates(
        np.asarray(image, dtype=np.float32), [grid_r, grid_c], order=1, mode="constant", cval=fill
    )


def crop_stack(
    slices: Sequence[np.ndarray],
    x: float,
    y: float,
    spacing_row_col: Sequence[float],
    extent_mm: float,
    size_px: int,
    intensity_range: tuple[float, float],
) -> np.ndarray:
    """[C, size, size] float32 crops of several slices, scaled so the range maps to [0, 1]."""
    low, high = intensity_range
    out = np.stack([crop(s, x, y, spacing_row_col, extent_mm, size_px, fill=low) for s in slices])
    return (out - low) / (high - low)


def neighbour_ranks(rank: int, n_slices: int, n_channels: int = 3) -> list[int]:
    """Spatial ranks of the labelled slice and its neighbours, clamped at the series' ends."""
    half = n_channels // 2
    return [min(max(rank + d, 0), n_slices - 1) for d in range(-half, half + 1)]
