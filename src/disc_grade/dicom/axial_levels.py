"""Which disc an axial slice cuts: the nearest disc plane, from geometry, never from its index.

Real axial T2 series come as several stacks, each angled to its disc, with gaps, slices
between discs and, in some studies, a second series. A slice's level is found by measuring
how far each disc's centre (located on the sagittal series, in patient mm) lies from the
slice's plane; the nearest disc wins, and a slice farther than ``max_distance_mm`` from every
disc is between discs (no level).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from disc_grade.dicom.geometry import patient_points, slice_normal


def disc_centres_mm(points: pd.DataFrame) -> pd.DataFrame:
    """Patient coordinates (LPS mm) of located disc points on sagittal slices.

    Args:
        points: per disc ``level``, ``x``, ``y`` (px) and the slice's ``ipp_x..z``,
            ``iop_0..5``, ``pixel_spacing_row``, ``pixel_spacing_col``.

    Returns:
        ``level``, ``px``, ``py``, ``pz`` per row of ``points``.
    """
    xyz = patient_points(points)
    return pd.DataFrame(
        {"level": points["level"].to_numpy(), "px": xyz[:, 0], "py": xyz[:, 1], "pz": xyz[:, 2]}
    )


def plane_distances(slices: pd.DataFrame, discs: pd.DataFrame) -> np.ndarray:
    """[n_slices, n_discs] unsigned distance (mm) from each disc centre to each slice's plane."""
    positions = slices[["ipp_x", "ipp_y", "ipp_z"]].to_numpy(dtype=float)
    normals = (
        np.stack(
            [slice_normal(o) for o in slices[[f"iop_{i}" for i in range(6)]].to_numpy(dtype=float)]
        )
        if len(slices)
        else np.zeros((0, 3))
    )
    centres = discs[["px", "py", "pz"]].to_numpy(dtype=float)
    # (centre - position) . normal, for every slice and disc
    offsets = centres[None, :, :] - positions[:, None, :]
    return np.abs(np.einsum("sdk,sk->sd", offsets, normals))


def axial_slice_levels(
    slices: pd.DataFrame, discs: pd.DataFrame, max_distance_mm: float
) -> pd.DataFrame:
    """The level of every axial slice: its nearest disc plane within ``max_distance_mm``.

    Args:
        slices: one row per axial slice with ``instance_number``, ``ipp_x..z``, ``iop_0..5``
            (any order: instance numbers are never read for geometry).
        discs: ``disc_centres_mm`` output, one row per located level.
        max_distance_mm: farther than this from every disc, a slice is between discs.

    Returns:
        ``slices`` plus ``level`` (None between discs) and ``distance_mm`` to the nearest disc.

    Raises:
        ValueError: ``max_distance_mm`` is not positive.
    """
    if not max_distance_mm > 0:
        raise ValueError(f"max_distance_mm must be positive, got {max_distance_mm}")
    out = slices.copy()
    if discs.empty or slices.empty:
        return out.assign(level=None, distance_mm=np.nan)
    distances = plane_distances(slices, discs)
    nearest = distances.argmin(axis=1)
    best = distances[np.arange(len(slices)), nearest]
    levels = discs["level"].to_numpy()[nearest].astype(object)
    levels[best > max_distance_mm] = None
    return out.assign(level=levels, distance_mm=best)
