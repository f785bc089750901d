"""Foraminal and subarticular targets: one row per labelled (study, side, level), checked by geometry.

Each condition is aligned like the canal (``labels.align_discs`` on the family's series), then
two checks read the DICOM geometry, never instance order:

- side: the labelled point's patient x (LPS, + is the patient's left) against the midline
  (the study's labelled canal point at that level, else the series' middle) must fall on the
  condition's side;
- level (axial only): the labelled slice's nearest disc plane, from the study's canal points on
  sagittal T2, must be the labelled level. Without the canal point of that level the level is
  not checked, and the row says so (``level_checked``).

Every cell ends in the targets or in the exclusions, and ``reconcile`` counts both per condition.
The split is the canal's, study by study, so no study is on two sides of any family.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from disc_grade.alignment.labels import align_discs
from disc_grade.alignment.schema import EXCLUSION_COLUMNS
from disc_grade.dicom.axial_levels import axial_slice_levels, disc_centres_mm
from disc_grade.dicom.geometry import SLICE_GEOMETRY_COLUMNS, patient_points, with_slice_geometry
from disc_grade.dicom.laterality import side_of
from disc_grade.rsna import CONDITIONS, condition_family

SIDE_MISMATCH = "side_disagrees_with_geometry"
SIDE_UNDECIDED = "point_on_the_midline"
GEOMETRY_MISSING = "slice_geometry_missing"
LEVEL_MISMATCH = "level_disagrees_with_geometry"
BETWEEN_DISCS = "slice_between_discs"
NO_SPLIT = "train"  # a study without canal discs has no test or validation rows to leak into


def family_conditions(family: str) -> list[str]:
    """The conditions of a family, left before right.

    Raises:
        ValueError: ``family`` is not ``foraminal`` or ``subarticular``.
    """
    if family not in ("foraminal", "subarticular"):
        raise ValueError(f"family must be 'foraminal' or 'subarticular', got '{family}'")
    return [c for c in CONDITIONS if condition_family(c) == family]


def _series_middle_x(dicom_index: pd.DataFrame) -> pd.Series:
    """Per (study, series): the mean patient x of its slices' positions (a sagittal midline)."""
    ok = dicom_index[dicom_index["status"] == "ok"]
    return ok.groupby(["study_id", "series_id"])["ipp_x"].mean()


def _exclusions(rows: pd.DataFrame, reason: str, detail) -> pd.DataFrame:
    out = rows.assign(source="label_cell", reason=reason, detail=detail)
    return out[[*EXCLUSION_COLUMNS, "condition"]].astype(EXCLUSION_COLUMNS)


def check_sides(
    rows: pd.DataFrame, canal: pd.DataFrame, dicom_index: pd.DataFrame, tolerance_mm: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep rows whose point lies on their condition's side; list the others with the reason."""
    if rows.empty:
        return rows.assign(midline_x_mm=np.nan), _exclusions(rows, SIDE_MISMATCH, "")
    located = with_slice_geometry(rows, dicom_index)
    x = patient_points(located)[:, 0]
    canal_x = canal.set_index(["study_id", "level"])["px"]
    keys = pd.MultiIndex.from_frame(located[["study_id", "level"]])
    midline = pd.Series(canal_x.reindex(keys).to_numpy(), index=located.index)
    if condition_family(located["condition"].iloc[0]) == "subarticular":
        # an axial slice's middle is its own centre, not a mean of positions
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
    rows: pd.DataFrame, canal: pd.DataFrame, dicom_index: pd.DataFrame, max_distance_mm: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep axial rows whose slice geometry agrees with their level; unchecked rows are marked."""
    located = with_slice_geometry(rows, dicom_index)
    verdict = pd.Series(pd.NA, index=located.index, dtype="string")
    distance = pd.Series(np.nan, index=located.index)
    for study_id, group in located.groupby("study_id"):
        discs = canal[canal["study_id"] == study_id]
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


def canal_centres(discs: pd.DataFrame, dicom_index: pd.DataFrame) -> pd.DataFrame:
    """Per (study, level) the labelled canal point in patient coordinates (``px``, ``py``, ``pz``)."""
    located = with_slice_geometry(discs, dicom_index).dropna(subset=SLICE_GEOMETRY_COLUMNS)
    centres = disc_centres_mm(located)
    return centres.assign(study_id=located["study_id"].to_numpy())


def align_family(
    train: pd.DataFrame,
    coordinates: pd.DataFrame,
    series_descriptions: pd.DataFrame,
    series: pd.DataFrame,
    dicom_index: pd.DataFrame,
    discs: pd.DataFrame,
    family: str,
    params: dict,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A family's targets (split as the canal's) and its exclusions, both with ``condition``.

    Args:
        discs: the canal's aligned and split ``discs`` (midlines, disc planes and the split).
        params: ``side_tolerance_mm`` and ``max_disc_distance_mm``.
    """
    canal = canal_centres(discs, dicom_index)
    kept, excluded = [], []
    for condition in family_conditions(family):
        rows, cells_out = align_discs(train, coordinates, series_descriptions, series, condition)
        rows = rows.assign(condition=condition)
        excluded.append(cells_out.assign(condition=condition)[[*EXCLUSION_COLUMNS, "condition"]])
        rows, side_out = check_sides(rows, canal, dicom_index, float(params["side_tolerance_mm"]))
        excluded.append(side_out)
        if family == "subarticular":
            rows, level_out = check_axial_levels(
                rows, canal, dicom_index, float(params["max_disc_distance_mm"])
            )
            excluded.append(level_out)
        kept.append(rows)
    targets = pd.concat(kept, ignore_index=True)
    splits = discs.drop_duplicates("study_id").set_index("study_id")[["split", "fold"]]
    targets["split"] = targets["study_id"].map(splits["split"]).fillna(NO_SPLIT).astype("string")
    targets["fold"] = targets["study_id"].map(splits["fold"]).fillna(-1).astype("int64")
    exclusions = pd.concat(excluded, ignore_index=True)
    exclusions["condition"] = exclusions["condition"].astype("string")
    return targets, exclusions


def reconcile(train: pd.DataFrame, targets: pd.DataFrame, exclusions: pd.DataFrame) -> pd.DataFrame:
    """Per condition: label cells, targets, exclusions by reason, and whether they add up."""
    cells = exclusions[exclusions["source"] == "label_cell"]
    rows = []
    for condition in sorted(set(targets["condition"]) | set(cells["condition"].dropna())):
        n_cells = len(train) * 5
        own = cells[cells["condition"] == condition]
        row = {
            "condition": condition,
            "label_cells": n_cells,
            "targets": int((targets["condition"] == condition).sum()),
            "excluded": len(own),
            **{f"excluded_{k}": int(v) for k, v in own["reason"].value_counts().items()},
        }
        row["balanced"] = row["targets"] + row["excluded"] == n_cells
        rows.append(row)
    return pd.DataFrame(rows).fillna(0)


def placement_offsets(
    targets: pd.DataFrame, discs: pd.DataFrame, dicom_index: pd.DataFrame
) -> dict:
    """Where a family's labelled points lie from the canal point of the same study and level.

    Over the training split, in patient mm: ``lateral_mm`` (towards the condition's side) and
    ``anterior_mm`` (towards the front), as medians with their median absolute deviation. The
    inference places a new study's targets with them, so the placement is learnt from the
    labels, on the phantom as on the real data.
    """
    train = targets[targets["split"] == "train"]
    canal = canal_centres(discs, dicom_index)
    located = with_slice_geometry(train, dicom_index).dropna(subset=SLICE_GEOMETRY_COLUMNS)
    points = patient_points(located)
    both = (
        located[["study_id", "level", "condition"]]
        .assign(x=points[:, 0] if len(points) else [], y=points[:, 1] if len(points) else [])
        .merge(canal, on=["study_id", "level"], how="inner")
    )
    if both.empty:
        raise ValueError(
            "placement: no training target shares a study and level with a canal point"
        )
    sign = np.where(both["condition"].str.startswith("left"), 1.0, -1.0)
    lateral = sign * (both["x"] - both["px"]).to_numpy()
    anterior = -(both["y"] - both["py"]).to_numpy()

    def summary(values: np.ndarray) -> tuple[float, float]:
        median = float(np.median(values))
        return median, float(np.median(np.abs(values - median)))

    (lat, lat_mad), (ant, ant_mad) = summary(lateral), summary(anterior)
    return {
        "lateral_mm": lat,
        "lateral_mad_mm": lat_mad,
        "anterior_mm": ant,
        "anterior_mad_mm": ant_mad,
        "n_points": int(len(both)),
    }
