"""The geometry checks of a condition's label rows: side against the midline, level against
the disc planes. Geometry only, never instance order; each failing row is listed with its reason.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from disc_grade.alignment.schema import EXCLUSION_COLUMNS
from disc_grade.dicom.axial_levels import axial_slice_levels
from disc_grade.dicom.geometry import patient_points, with_slice_geometry
from disc_grade.dicom.laterality import side_of

SIDE_MISMATCH = "side_disagrees_with_geometry"
SIDE_UNDECIDED = "point_on_the_midline"
GEOMETRY_MISSING = "slice_geometry_missing"
LEVEL_MISMATCH = "level_disagrees_with_geometry"
BETWEEN_DISCS = "slice_between_discs"


def _exclusions(rows: pd.DataFrame, reason: str, detail) -> pd.DataFrame:
    out = rows.assign(source="label_cell", reason=reason, detail=detail)
    return out[[*EXCLUSION_COLUMNS, "condition"]].astype(EXCLUSION_COLUMNS)


def _series_middle_x(dicom_index: pd.DataFrame) -> pd.Series:
    """Per (study, series): the mean patient x of its slices' positions (a sagittal midline)."""
    ok = dicom_index[dicom_index["status"] == "ok"]
    return ok.groupby(["study_id", "series_id"])["ipp_x"].mean()


def check_sides(
    rows: pd.DataFrame,
    landmarks: pd.DataFrame,
    dicom_index: pd.DataFrame,
    tolerance_mm: float,
    axial: bool,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep rows whose point lies on their condition's side; list the others with the reason.

    Without the study's canal point at the level, the midline is the slice's own centre
    (``axial``) or the sagittal series' middle.
    """
    if rows.empty:
        return rows.assign(midline_x_mm=np.nan), _exclusions(rows, SIDE_MISMATCH, "")
    located = with_slice_geometry(rows, dicom_index)
    x = patient_points(located)[:, 0]
    canal_x = landmarks.set_index(["study_id", "level"])["px"]
    keys = pd.MultiIndex.from_frame(located[["study_id", "level"]])
    midline = pd.Series(canal_x.reindex(keys).to_numpy(dtype=float), index=located.index)
    if axial:  # an axial slice's middle is its own centre, not a mean of positions
        centres = located.assign(x=(located["columns"] - 1) / 2, y=(located["rows"] - 1) / 2)
        fallback = patient_points(centres)[:, 0]
    else:
        series_x = _series_middle_x(dicom_index)
        fallback = series_x.reindex(pd.MultiIndex.from_frame(located[["study_id", "series_id"]]))
    midline = midline.fillna(pd.Series(np.asarray(fallback, dtype=float), index=located.index))
    sides = [side_of(a, b, tolerance_mm) for a, b in zip(x, midline, strict=True)]
    wanted = located["condition"].str.split("_").str[0]
    found = pd.Series(sides, index=located.index, dtype=object)
    good = found == wanted
    detail = (
        "point at patient x "
        + pd.Series(np.round(x, 1), index=located.index).astype(str)
        + " mm, midline "
        + midline.round(1).astype(str)
        + " mm"
    )
    unknown = np.isnan(x) | midline.isna().to_numpy()
    reason = np.where(
        unknown, GEOMETRY_MISSING, np.where(found.isna(), SIDE_UNDECIDED, SIDE_MISMATCH)
    )
    bad = located[~good].assign(reason_=reason[~good.to_numpy()])
    excluded = [_exclusions(group, r, detail[group.index]) for r, group in bad.groupby("reason_")]
    kept = rows[good.to_numpy()].assign(midline_x_mm=midline[good].to_numpy())
    empty = _exclusions(rows.iloc[:0], SIDE_MISMATCH, "")
    return kept, pd.concat([empty, *excluded], ignore_index=True)


def check_axial_levels(
    rows: pd.DataFrame, landmarks: pd.DataFrame, dicom_index: pd.DataFrame, max_distance_mm: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep axial rows whose slice geometry agrees with their level; unchecked rows are marked."""
    located = with_slice_geometry(rows, dicom_index)
    verdict = pd.Series(pd.NA, index=located.index, dtype="string")
    distance = pd.Series(np.nan, index=located.index)
    for study_id, group in located.groupby("study_id"):
        discs = landmarks[landmarks["study_id"] == study_id]
        # only where the labelled level's own disc is located can the check decide
        group = group[group["level"].isin(discs["level"])]
        if group.empty:
            continue
        levelled = axial_slice_levels(group, discs, max_distance_mm)
        verdict[group.index] = levelled["level"].fillna(BETWEEN_DISCS).astype("string")
        distance[group.index] = levelled["distance_mm"]
    checked = verdict.notna()
    agree = verdict == located["level"]
    bad = checked & ~agree.fillna(False)
    detail = (
        "nearest disc plane: "
        + verdict.fillna("").astype(str)
        + " at "
        + distance.round(1).astype(str)
        + " mm"
    )
    mismatch = located[bad & (verdict != BETWEEN_DISCS)]
    between = located[bad & (verdict == BETWEEN_DISCS)]
    excluded = pd.concat(
        [
            _exclusions(rows.iloc[:0], LEVEL_MISMATCH, ""),
            _exclusions(mismatch, LEVEL_MISMATCH, detail[mismatch.index]),
            _exclusions(between, BETWEEN_DISCS, detail[between.index]),
        ],
        ignore_index=True,
    )
    kept = rows[~bad.to_numpy()].assign(
        level_checked=checked[~bad].to_numpy(), disc_plane_mm=distance[~bad].to_numpy()
    )
    return kept, excluded
