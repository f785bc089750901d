"""The one ROI cropper: a fixed physical extent around a point, resampled to a fixed size.

Used by the ``roi`` pipeline (labelled points) and by inference (localised points).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

LOW_PERCENTILE, HIGH_PERCENTILE = 1.0, 99.5


def roi_centre(size_px: int) -> float:
    """Where the cropped point lands inside a ROI of ``size_px`` (same on both axes)."""
    return (size_px - 1) / 2


def _mirror_symmetric(n: int, stride: int) -> np.ndarray:
    """Every ``stride``-th of ``n`` indices counted from the nearer end: the same pixels in an
    image and in its mirror image."""
    index = np.arange(n)
    return index[np.minimum(index, n - 1 - index) % stride == 0]


def robust_range(slices: Sequence[np.ndarray], stride: int = 2) -> tuple[float, float]:
    """Low and high intensity percentiles over a series' decoded slices (every ``stride``-th
    row, and every ``stride``-th column counted from the nearer side, so that a slice mirrored
    left-to-right gets the same range)."""
    values = np.concatenate(
        [
            np.asarray(s, dtype=np.float32)[
                ::stride, _mirror_symmetric(np.shape(s)[1], stride)
            ].ravel()
            for s in slices
        ]
    )
    low, high = np.percentile(values, [LOW_PERCENTILE, HIGH_PERCENTILE])
    return float(low), float(max(high, low + 1e-3))


def _bilinear(stack: np.ndarray, rows: np.ndarray, cols: np.ndarray, fill: float) -> np.ndarray:
    """Sample every slice of ``stack`` [C, H, W] on the grid ``rows`` x ``cols`` (separable, bilinear).

    Outside the image the value is ``fill`` (the image is padded by one pixel of it, and indices
    past the padding are clamped onto it).
    """
    _, height, width = stack.shape
    padded = np.pad(stack, ((0, 0), (1, 1), (1, 1)), constant_values=fill)
    r0 = np.floor(rows)
    c0 = np.floor(cols)
    wr = (rows - r0).astype(np.float32)[None, :, None]
    wc = (cols - c0).astype(np.float32)[None, None, :]
    ri = r0.astype(np.int64) + 1
    ci = c0.astype(np.int64) + 1
    r_lo, r_hi = np.clip(ri, 0, height + 1), np.clip(ri + 1, 0, height + 1)
    c_lo, c_hi = np.clip(ci, 0, width + 1), np.clip(ci + 1, 0, width + 1)
    top = padded[:, r_lo][:, :, c_lo] * (1 - wc) + padded[:, r_lo][:, :, c_hi] * wc
    bottom = padded[:, r_hi][:, :, c_lo] * (1 - wc) + padded[:, r_hi][:, :, c_hi] * wc
    return top * (1 - wr) + bottom * wr


def _grid(x: float, y: float, spacing_row_col: Sequence[float], extent_mm: float, size_px: int):
    if size_px <= 0 or extent_mm <= 0 or min(spacing_row_col) <= 0:
        raise ValueError(
            f"crop needs positive size, extent and spacing; got size_px={size_px}, "
            f"extent_mm={extent_mm}, spacing={list(spacing_row_col)}"
        )
    offsets = (np.arange(size_px) - roi_centre(size_px)) * (extent_mm / size_px)
    return y + offsets / float(spacing_row_col[0]), x + offsets / float(spacing_row_col[1])


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
    rows, cols = _grid(x, y, spacing_row_col, extent_mm, size_px)
    return _bilinear(np.asarray(image, dtype=np.float32)[None], rows, cols, fill)[0]


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
    rows, cols = _grid(x, y, spacing_row_col, extent_mm, size_px)
    stack = np.stack([np.asarray(s, dtype=np.float32) for s in slices])
    return (_bilinear(stack, rows, cols, fill=low) - low) / (high - low)


def neighbour_ranks(rank: int, n_slices: int, n_channels: int = 3) -> list[int]:
    """Spatial ranks of the labelled slice and its neighbours, clamped at the series' ends."""
    half = n_channels // 2
    return [min(max(rank + d, 0), n_slices - 1) for d in range(-half, half + 1)]
