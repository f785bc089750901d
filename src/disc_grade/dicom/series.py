"""The ``series`` table: one row per series folder, slices in spatial order."""

from __future__ import annotations

import numpy as np
import pandas as pd

from disc_grade.dicom.geometry import plane_of, slice_normal, spatial_order
from disc_grade.dicom.headers import OK, orientation_of, position_of

ORIENTATION_TOLERANCE = 1e-3
# axial series come as stacks angled to each disc: slices within this angle of the first
# slice's plane are one series; beyond it the orientations are mixed
MAX_STACK_ANGLE_DEG = 35.0
# what a reader of a series' slices needs: their spatial order, image size and pixel spacing
GEOMETRY_COLUMNS = [
    "study_id",
    "series_id",
    "instances_in_order",
    "rows",
    "columns",
    "pixel_spacing_row",
    "pixel_spacing_col",
]

UNKNOWN_SITE = "unknown"
SERIES_COLUMNS = {
    "study_id": "int64",
    "series_id": "int64",
    "series_description": "string",
    "site": "string",
    "plane": "string",
    "n_slices": "int64",
    "n_files_not_ok": "int64",
    "rows": "Int64",
    "columns": "Int64",
    "pixel_spacing_row": "float64",
    "pixel_spacing_col": "float64",
    "slice_spacing": "float64",
    "normal_x": "float64",  # LPS x of the slice normal (+: towards the patient's left)
    "column_x": "float64",  # LPS x of the direction the image's columns run in
    "instances_in_order": "object",
    "positions_in_order": "object",
    "status": "string",
}


def _most_common(values: pd.Series) -> str | None:
    return values.mode().iat[0] if values.notna().any() else None


def site_of(files: pd.DataFrame) -> str:
    """Where a series was acquired, as its headers say: the scanner model, else the maker.

    A proxy for the hospital that held-out-site splits can use; ``unknown`` when the headers
    name neither (anonymised data).
    """
    for column in ("scanner_model", "manufacturer"):
        if column in files and (value := _most_common(files[column])):
            return str(value)
    return UNKNOWN_SITE


def max_angle_deg(orientations: np.ndarray) -> float:
    """The largest angle (degrees) between the first slice's plane and any other slice's."""
    normals = np.stack([slice_normal(o) for o in orientations])
    cosines = np.clip(np.abs(normals @ normals[0]), 0.0, 1.0)
    return float(np.degrees(np.arccos(cosines.min())))


def _one_series(files: pd.DataFrame, n_not_ok: int) -> dict:
    first = files.iloc[0]
    orientation = orientation_of(files)
    row = {
        "study_id": int(first.study_id),
        "series_id": int(first.series_id),
        "series_description": _most_common(files["series_description"]),
        "site": site_of(files),
        "n_slices": len(files),
        "n_files_not_ok": n_not_ok,
        "rows": int(first.rows),
        "columns": int(first.columns),
        "pixel_spacing_row": float(files["pixel_spacing_row"].median()),
        "pixel_spacing_col": float(files["pixel_spacing_col"].median()),
        "status": OK,
    }
    try:
        row["plane"] = plane_of(orientation[0])
        order, along = spatial_order(position_of(files), orientation[0])
        row["normal_x"] = float(slice_normal(orientation[0])[0])
        row["column_x"] = float(orientation[0][0])
    except ValueError as exc:
        return {
            **row,
            "plane": None,
            "normal_x": np.nan,
            "column_x": np.nan,
            "instances_in_order": [],
            "positions_in_order": [],
            "slice_spacing": np.nan,
            "status": f"bad_orientation: {exc}",
        }
    row["instances_in_order"] = [int(i) for i in files["instance_number"].to_numpy()[order]]
    row["positions_in_order"] = [round(float(a), 4) for a in along]
    row["slice_spacing"] = float(np.median(np.diff(along))) if len(along) > 1 else np.nan
    if np.abs(orientation - orientation[0]).max() > ORIENTATION_TOLERANCE and (
        max_angle_deg(orientation) > MAX_STACK_ANGLE_DEG
        or {plane_of(o) for o in orientation} != {row["plane"]}
    ):
        row["status"] = "mixed_orientation"
    elif files["rows"].nunique() > 1 or files["columns"].nunique() > 1:
        row["status"] = "mixed_image_size"
    elif files["instance_number"].duplicated().any():
        row["status"] = "duplicate_instance_numbers"
    return row


def build_series_table(dicom_index: pd.DataFrame) -> pd.DataFrame:
    """Group readable files by (study, series); count the files that were not readable.

    Series whose every file failed still get a row (``n_slices`` 0, status ``no_readable_files``).
    """
    with_ids = dicom_index.dropna(subset=["study_id", "series_id"])
    rows = []
    for (study_id, series_id), files in with_ids.groupby(["study_id", "series_id"], sort=True):
        ok = files[files["status"] == OK]
        n_not_ok = int(len(files) - len(ok))
        if ok.empty:
            rows.append(
                {
                    "study_id": int(study_id),
                    "series_id": int(series_id),
                    "series_description": None,
                    "site": UNKNOWN_SITE,
                    "plane": None,
                    "n_slices": 0,
                    "n_files_not_ok": n_not_ok,
                    "rows": None,
                    "columns": None,
                    "pixel_spacing_row": np.nan,
                    "pixel_spacing_col": np.nan,
                    "slice_spacing": np.nan,
                    "normal_x": np.nan,
                    "column_x": np.nan,
                    "instances_in_order": [],
                    "positions_in_order": [],
                    "status": "no_readable_files",
                }
            )
            continue
        rows.append(_one_series(ok, n_not_ok))
    frame = pd.DataFrame(rows, columns=list(SERIES_COLUMNS))
    return frame.astype(SERIES_COLUMNS)
