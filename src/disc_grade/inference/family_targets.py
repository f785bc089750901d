"""Where to grade the foramina and the lateral recesses of a new study, placed from its canal points.

There is no localiser for these families yet. Their points are placed by geometry from the canal
points the localiser found on sagittal T2, carried into patient coordinates (LPS mm):

- foramina: on the study's sagittal T1 series, the slice nearest ``lateral_mm`` to each side of
  the canal (side by patient x, never by instance order), at the canal point moved
  ``anterior_mm`` forward, projected into that slice;
- lateral recesses: on the study's axial T2 series (one or several), the slice whose plane lies
  nearest the disc (``dicom.axial_levels``), at the canal point moved ``lateral_mm`` to each side
  and ``anterior_mm`` forward, projected into that slice.

Every (study, condition, level) either gets a target row or a reason.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from disc_grade.dicom.axial_levels import axial_slice_levels, disc_centres_mm
from disc_grade.dicom.geometry import SLICE_GEOMETRY_COLUMNS, patient_to_pixel, slice_normal
from disc_grade.dicom.laterality import side_of
from disc_grade.rsna import CONDITIONS, condition_family

SERIES_GEOMETRY = ["rows", "columns", "pixel_spacing_row", "pixel_spacing_col"]
NO_CANAL_POINT = "no canal point at this level on sagittal T2"
NO_SERIES = "no readable {description} series"
NO_SLICE_ON_SIDE = "no sagittal T1 slice on this side"
NO_AXIAL_SLICE = "no axial slice within {mm:g} mm of the disc"
OUTSIDE = "placed point outside the image"
TARGET_COLUMNS = [
    "study_id",
    "condition",
    "level",
    "series_id",
    "instance_number",
    "slice_rank",
    "x",
    "y",
    *SERIES_GEOMETRY,
]


def _slices(dicom_index: pd.DataFrame, series: pd.DataFrame, series_ids) -> pd.DataFrame:
    """Every readable slice of ``series_ids`` with its geometry and its rank in spatial order."""
    files = dicom_index[
        (dicom_index["status"] == "ok") & dicom_index["series_id"].isin(list(series_ids))
    ][["study_id", "series_id", "instance_number", *SLICE_GEOMETRY_COLUMNS]]
    order = series[series["series_id"].isin(list(series_ids))][["series_id", "instances_in_order"]]
    ranks = pd.DataFrame(
        [
            {"series_id": r.series_id, "instance_number": int(i), "slice_rank": k}
            for r in order.itertuples()
            for k, i in enumerate(r.instances_in_order)
        ],
        columns=["series_id", "instance_number", "slice_rank"],
    )
    return files.merge(ranks, on=["series_id", "instance_number"], how="inner")


def canal_centres(
    points: pd.DataFrame, series: pd.DataFrame, dicom_index: pd.DataFrame
) -> pd.DataFrame:
    """Patient coordinates of every found canal point (``study_id, level, px, py, pz``)."""
    found = points[points["status"] == "ok"]
    if found.empty:
        return pd.DataFrame(columns=["study_id", "level", "px", "py", "pz"])
    slices = _slices(dicom_index, series, set(found["series_id"]))
    located = found[["study_id", "series_id", "level", "slice_rank", "x", "y"]].merge(
        slices, on=["study_id", "series_id", "slice_rank"], how="inner"
    )
    spacing = series[["series_id", "pixel_spacing_row", "pixel_spacing_col"]]
    located = located.merge(spacing, on="series_id", how="left", validate="m:1")
    return disc_centres_mm(located).assign(study_id=located["study_id"].to_numpy())


def _target(study_id, condition, level, slice_row, geometry, point) -> dict:
    spacing = (geometry["pixel_spacing_row"], geometry["pixel_spacing_col"])
    position = (slice_row.ipp_x, slice_row.ipp_y, slice_row.ipp_z)
    orientation = [getattr(slice_row, f"iop_{i}") for i in range(6)]
    x, y = patient_to_pixel(point, position, orientation, spacing)
    return {
        "study_id": study_id,
        "condition": condition,
        "level": level,
        "series_id": int(slice_row.series_id),
        "instance_number": int(slice_row.instance_number),
        "slice_rank": int(slice_row.slice_rank),
        "x": x,
        "y": y,
        **{k: geometry[k] for k in SERIES_GEOMETRY},
    }


def _family_conditions(family: str) -> list[str]:
    return [c for c in CONDITIONS if condition_family(c) == family]


def place_targets(
    family: str,
    canal: pd.DataFrame,
    chosen: pd.DataFrame,
    series: pd.DataFrame,
    dicom_index: pd.DataFrame,
    params: dict,
    study_ids,
    levels,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The family's targets for every study and level, and the ones it could not place.

    Args:
        canal: ``canal_centres`` of the studies.
        chosen: per study the family's series (``study_id``, ``series_id``; several rows for a
            study with two axial series).
        params: ``lateral_mm``, ``anterior_mm`` and, for the axial family, ``max_disc_distance_mm``.

    Returns:
        (targets with ``TARGET_COLUMNS``, ``study_id, condition, level, reason`` of the others)
    """
    description = "sagittal T1" if family == "foraminal" else "axial T2"
    lateral, anterior = float(params["lateral_mm"]), float(params["anterior_mm"])
    geometry = series.set_index("series_id")[SERIES_GEOMETRY]
    targets, missing = [], []
    for study_id in study_ids:
        own_series = chosen.loc[chosen["study_id"] == study_id, "series_id"].tolist()
        slices = _slices(dicom_index, series, own_series) if own_series else pd.DataFrame()
        own_canal = canal[canal["study_id"] == study_id]
        levelled = None
        if family == "subarticular" and not slices.empty and not own_canal.empty:
            levelled = axial_slice_levels(slices, own_canal, float(params["max_disc_distance_mm"]))
        for level in levels:
            found = own_canal[own_canal["level"] == level]
            for condition in _family_conditions(family):
                key = {"study_id": study_id, "condition": condition, "level": level}
                sign = 1.0 if condition.startswith("left") else -1.0
                if slices.empty:
                    missing.append({**key, "reason": NO_SERIES.format(description=description)})
                    continue
                if found.empty:
                    missing.append({**key, "reason": NO_CANAL_POINT})
                    continue
                centre = found[["px", "py", "pz"]].to_numpy(dtype=float)[0]
                if family == "foraminal":
                    on_side = slices[
                        [side_of(x, centre[0]) == condition.split("_")[0] for x in slices["ipp_x"]]
                    ]
                    if on_side.empty:
                        missing.append({**key, "reason": NO_SLICE_ON_SIDE})
                        continue
                    distance = (on_side["ipp_x"] - (centre[0] + sign * lateral)).abs()
                    row = on_side.loc[distance.idxmin()]
                    point = centre + np.array([0.0, -anterior, 0.0])
                else:
                    own = levelled[levelled["level"] == level]
                    if own.empty:
                        reason = NO_AXIAL_SLICE.format(mm=float(params["max_disc_distance_mm"]))
                        missing.append({**key, "reason": reason})
                        continue
                    row = own.loc[own["distance_mm"].idxmin()]
                    point = centre + np.array([sign * lateral, -anterior, 0.0])
                    normal = slice_normal([row[f"iop_{i}"] for i in range(6)])
                    origin = row[["ipp_x", "ipp_y", "ipp_z"]].to_numpy(dtype=float)
                    point = point - ((point - origin) @ normal) * normal
                target = _target(
                    study_id, condition, level, row, geometry.loc[row.series_id], point
                )
                inside = (
                    0 <= target["x"] <= target["columns"] - 1
                    and 0 <= target["y"] <= target["rows"] - 1
                )
                if inside:
                    targets.append(target)
                else:
                    missing.append({**key, "reason": OUTSIDE})
    return (
        pd.DataFrame(targets, columns=TARGET_COLUMNS),
        pd.DataFrame(missing, columns=["study_id", "condition", "level", "reason"]),
    )
