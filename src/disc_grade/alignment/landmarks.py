"""The canal's points in patient space: the landmarks the other conditions are found from.

A foramen's side is its slice's patient x against the midline, a recess's level is the disc
plane its axial slice cuts: both come from the canal points on sagittal T2. In training they
are the labelled canal points (``train_label_coordinates.csv``); in inference the points the
canal's localiser found. One function turns either into patient coordinates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from disc_grade.dicom.axial_levels import disc_centres_mm
from disc_grade.dicom.geometry import SLICE_GEOMETRY_COLUMNS, with_slice_geometry
from disc_grade.rsna import CONDITION_NAMES, LEVEL_FROM_NAME, LEVELS, SPINAL

LANDMARK_COLUMNS = ["study_id", "level", "px", "py", "pz"]
SPACING = ["pixel_spacing_row", "pixel_spacing_col"]


def landmarks_of(points: pd.DataFrame, dicom_index: pd.DataFrame) -> pd.DataFrame:
    """Patient coordinates (LPS mm) of canal points on readable slices, one row per point.

    Args:
        points: ``study_id, series_id, instance_number, level, x, y`` (px).
        dicom_index: the header scan (slice geometry and pixel spacing per file).
    """
    keys = ["study_id", "series_id", "instance_number", "level", "x", "y"]
    located = with_slice_geometry(
        points[keys], dicom_index, (*SLICE_GEOMETRY_COLUMNS, *SPACING)
    ).dropna(subset=[*SLICE_GEOMETRY_COLUMNS, *SPACING])
    if located.empty:
        return pd.DataFrame(columns=LANDMARK_COLUMNS).astype({"study_id": "int64"})
    centres = disc_centres_mm(located).assign(study_id=located["study_id"].to_numpy())
    return centres[LANDMARK_COLUMNS].drop_duplicates(["study_id", "level"]).reset_index(drop=True)


def labelled_landmarks(coordinates: pd.DataFrame, dicom_index: pd.DataFrame) -> pd.DataFrame:
    """The labelled canal points of ``train_label_coordinates.csv`` in patient coordinates."""
    canal = coordinates[coordinates["condition"] == CONDITION_NAMES[SPINAL]]
    canal = canal.assign(level=canal["level"].map(LEVEL_FROM_NAME)).dropna(subset=["level"])
    return landmarks_of(canal, dicom_index)


def adjacent_gaps(points: pd.DataFrame, by: list[str]) -> np.ndarray:
    """The distance (patient mm) between every two adjacent levels' points of ``points``
    (``level``, ``px``, ``py``, ``pz``) within each group of ``by`` where both are present."""
    gaps = []
    for _, own in points.groupby(by):
        at = own.set_index("level")[["px", "py", "pz"]]
        for upper, lower in zip(LEVELS, LEVELS[1:], strict=False):
            if upper in at.index and lower in at.index:
                gaps.append(
                    float(np.linalg.norm(at.loc[lower].to_numpy() - at.loc[upper].to_numpy()))
                )
    return np.asarray(gaps, dtype=float)
