"""Geometry from DICOM orientation and position: slice normals, planes, spatial order.

The one helper for pixel <-> patient coordinates lives here too.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

PLANES = ("sagittal", "coronal", "axial")
# a slice's geometry as the ``dicom_index`` holds it: ImagePositionPatient, ImageOrientationPatient
SLICE_GEOMETRY_COLUMNS = ["ipp_x", "ipp_y", "ipp_z", *[f"iop_{i}" for i in range(6)]]


def slice_normal(orientation: Sequence[float]) -> np.ndarray:
    """Unit normal of a slice from its ImageOrientationPatient (row cosines, column cosines).

    Raises:
        ValueError: the orientation does not hold six finite numbers or its axes are parallel.
    """
    iop = np.asarray(orientation, dtype=float)
    if iop.shape != (6,) or not np.isfinite(iop).all():
        raise ValueError(
            f"ImageOrientationPatient must be 6 finite numbers, got {list(orientation)}"
        )
    normal = np.cross(iop[:3], iop[3:])
    norm = np.linalg.norm(normal)
    if norm < 1e-6:
        raise ValueError(
            f"ImageOrientationPatient has parallel row and column axes: {list(orientation)}"
        )
    return normal / norm


def plane_of(orientation: Sequence[float]) -> str:
    """'sagittal', 'coronal' or 'axial': the patient axis closest to the slice normal (LPS)."""
    return PLANES[int(np.argmax(np.abs(slice_normal(orientation))))]


def spatial_order(
    positions: np.ndarray, orientation: Sequence[float]
) -> tuple[np.ndarray, np.ndarray]:
    """Order slices by ImagePositionPatient projected on the slice normal.

    Args:
        positions: [n, 3] ImagePositionPatient of each slice.
        orientation: the series' ImageOrientationPatient.

    Returns:
        (indices that sort the slices, sorted positions along the normal in mm)
    """
    along = np.asarray(positions, dtype=float) @ slice_normal(orientation)
    order = np.argsort(along, kind="stable")
    return order, along[order]


def pixel_to_patient(
    column: float,
    row: float,
    position: Sequence[float],
    orientation: Sequence[float],
    spacing: Sequence[float],
) -> np.ndarray:
    """Patient coordinates (mm, LPS) of a pixel location (column x, row y; centres at integers).

    ``spacing`` is PixelSpacing as DICOM stores it: (between rows, between columns).
    """
    iop = np.asarray(orientation, dtype=float)
    return (
        np.asarray(position, dtype=float)
        + column * float(spacing[1]) * iop[:3]
        + row * float(spacing[0]) * iop[3:]
    )


def patient_to_pixel(
    point: Sequence[float],
    position: Sequence[float],
    orientation: Sequence[float],
    spacing: Sequence[float],
) -> tuple[float, float]:
    """(column, row) of a patient point projected into a slice: the inverse of ``pixel_to_patient``."""
    iop = np.asarray(orientation, dtype=float)
    offset = np.asarray(point, dtype=float) - np.asarray(position, dtype=float)
    return float(offset @ iop[:3] / float(spacing[1])), float(offset @ iop[3:] / float(spacing[0]))


def with_slice_geometry(
    rows: pd.DataFrame, dicom_index: pd.DataFrame, columns=tuple(SLICE_GEOMETRY_COLUMNS)
) -> pd.DataFrame:
    """``rows`` (``study_id, series_id, instance_number``, ...) with their slice's geometry
    ``columns`` from the readable files of ``dicom_index`` (NaN where the file is not)."""
    keys = ["study_id", "series_id", "instance_number"]
    files = dicom_index[dicom_index["status"] == "ok"][[*keys, *columns]].drop_duplicates(keys)
    return rows.merge(files, on=keys, how="left", validate="m:1")


def patient_points(rows: pd.DataFrame) -> np.ndarray:
    """[n, 3] patient coordinates (LPS mm) of pixel points, one per row.

    ``rows`` holds ``x``, ``y`` (px), ``pixel_spacing_row``, ``pixel_spacing_col`` and the
    slice's ``SLICE_GEOMETRY_COLUMNS``.
    """
    if rows.empty:
        return np.zeros((0, 3))
    return np.stack(
        [
            pixel_to_patient(
                r.x,
                r.y,
                (r.ipp_x, r.ipp_y, r.ipp_z),
                [getattr(r, f"iop_{i}") for i in range(6)],
                (r.pixel_spacing_row, r.pixel_spacing_col),
            )
            for r in rows.itertuples()
        ]
    )
