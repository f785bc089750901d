"""A condition's targets: one row per labelled (study, condition, level), checked by geometry.

Each of the condition's RSNA conditions is aligned by ``labels.align_discs`` on its series;
then geometry, never instance order, checks what the spec says it must:

- side (the foramina and recesses): the labelled point's patient x (LPS, + is the patient's
  left) against the midline (the study's canal point at that level, else the series' middle)
  must fall on the condition's side;
- level (axial series): the labelled slice's nearest disc plane, from the study's canal points,
  must be the labelled level. Without the canal point of that level the level is not checked,
  and the row says so (``level_checked``).

Every label cell ends in the targets or in the exclusions; ``reconcile`` counts both per
condition and ``status`` says whether the condition can be trained. The split is the study's,
made once for every condition (``split.assign_splits``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from disc_grade.alignment.geometry_checks import check_axial_levels, check_sides
from disc_grade.alignment.labels import align_discs
from disc_grade.alignment.landmarks import adjacent_gaps
from disc_grade.alignment.schema import EXCLUSION_COLUMNS
from disc_grade.conditions import ConditionSpec
from disc_grade.dicom.geometry import SLICE_GEOMETRY_COLUMNS, patient_points, with_slice_geometry

NOT_TRAINED = "condition_not_trained"  # the condition has no training target: it is skipped


def align_targets(
    spec: ConditionSpec,
    train: pd.DataFrame,
    coordinates: pd.DataFrame,
    series_descriptions: pd.DataFrame,
    series: pd.DataFrame,
    dicom_index: pd.DataFrame,
    splits: pd.DataFrame,
    landmarks: pd.DataFrame,
    params: dict,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The condition's targets (with the study's split) and its exclusions, both with
    ``condition``.

    A condition with no target in the training split cannot be trained: its targets join the
    exclusions (``condition_not_trained``) and none is returned.

    Args:
        splits: ``split.assign_splits`` (one row per study).
        landmarks: the labelled canal points (``landmarks.labelled_landmarks``).
        params: ``side_tolerance_mm`` and ``max_disc_distance_mm``.
    """
    kept, excluded = [], []
    for condition in spec.conditions:
        rows, cells_out = align_discs(train, coordinates, series_descriptions, series, condition)
        rows = rows.assign(condition=condition)
        excluded.append(cells_out.assign(condition=condition)[[*EXCLUSION_COLUMNS, "condition"]])
        if spec.sided:
            tolerance = float(params["side_tolerance_mm"])
            rows, side_out = check_sides(rows, landmarks, dicom_index, tolerance, spec.needs_levels)
            excluded.append(side_out)
        if spec.needs_levels:
            distance = float(params["max_disc_distance_mm"])
            rows, level_out = check_axial_levels(rows, landmarks, dicom_index, distance)
            excluded.append(level_out)
        kept.append(rows)
    targets = pd.concat(kept, ignore_index=True)
    by_study = splits.drop_duplicates("study_id").set_index("study_id")
    targets["split"] = targets["study_id"].map(by_study["split"]).astype("string")
    targets["fold"] = targets["study_id"].map(by_study["fold"]).fillna(-1).astype("int64")
    exclusions = pd.concat(excluded, ignore_index=True)
    if not (targets["split"] == "train").any():
        gone = targets.assign(source="label_cell", reason=NOT_TRAINED, detail="no training target")
        exclusions = pd.concat(
            [exclusions, gone[exclusions.columns].astype(exclusions.dtypes.to_dict())],
            ignore_index=True,
        )
        targets = targets.iloc[:0]
    exclusions["condition"] = exclusions["condition"].astype("string")
    return targets, exclusions


def reconcile(
    spec: ConditionSpec, train: pd.DataFrame, targets: pd.DataFrame, exclusions: pd.DataFrame
) -> pd.DataFrame:
    """Per condition: label cells, targets, exclusions by reason, and whether they add up."""
    cells = exclusions[exclusions["source"] == "label_cell"]
    rows = []
    for condition in spec.conditions:
        n_cells = len(train) * 5
        own = cells[cells["condition"] == condition]
        row = {
            "condition": condition,
            "label_cells": n_cells,
            "targets": int((targets["condition"] == condition).sum()) if len(targets) else 0,
            "excluded": len(own),
            **{f"excluded_{k}": int(v) for k, v in own["reason"].value_counts().items()},
        }
        row["balanced"] = row["targets"] + row["excluded"] == n_cells
        rows.append(row)
    return pd.DataFrame(rows).fillna(0)


def status(spec: ConditionSpec, targets: pd.DataFrame, reconciliation: pd.DataFrame) -> dict:
    """Whether the condition trains, and its label cells by outcome (for the log and report)."""
    excluded = {
        column.removeprefix("excluded_"): int(reconciliation[column].sum())
        for column in reconciliation
        if column.startswith("excluded_")
    }
    excluded = {k: v for k, v in sorted(excluded.items(), key=lambda kv: -kv[1]) if v}
    out = {
        "condition": spec.name,
        "trained": bool(len(targets)),
        "label_cells": int(reconciliation["label_cells"].sum()),
        "targets": int(len(targets)),
        "excluded": excluded,
    }
    if not out["trained"]:
        reasons = ", ".join(f"{k}: {v}" for k, v in excluded.items()) or "no label cells"
        out["reason"] = f"no usable training target ({reasons})"
    return out


def anatomy_offsets(
    targets: pd.DataFrame, landmarks: pd.DataFrame, dicom_index: pd.DataFrame
) -> dict:
    """Where the condition's labelled points lie from the canal point of the same study and
    level, over the training split, in patient mm: ``lateral_mm`` (towards the condition's side)
    and ``anterior_mm``, medians with their median absolute deviation (0 for the canal itself);
    and the spacing of adjacent discs (``level_spacing``).

    The localiser's slice prior reads ``lateral_mm``: a foramen is expected that far out.
    """
    train = targets[targets["split"] == "train"]
    spacing = level_spacing(landmarks[landmarks["study_id"].isin(set(train["study_id"]))])
    located = with_slice_geometry(train, dicom_index).dropna(subset=SLICE_GEOMETRY_COLUMNS)
    points = patient_points(located)
    both = (
        located[["study_id", "level", "condition"]]
        .assign(x=points[:, 0] if len(points) else [], y=points[:, 1] if len(points) else [])
        .merge(landmarks, on=["study_id", "level"], how="inner")
    )
    if both.empty:
        return {
            "lateral_mm": 0.0,
            "lateral_mad_mm": 0.0,
            "anterior_mm": 0.0,
            "anterior_mad_mm": 0.0,
            "n_points": 0,
            **spacing,
        }
    sign = np.where(both["condition"].str.startswith("right"), -1.0, 1.0)
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
        **spacing,
    }


def level_spacing(landmarks: pd.DataFrame) -> dict:
    """How far apart adjacent discs lie (patient mm) over ``landmarks``' studies: the median of
    every adjacent pair's distance and its median absolute deviation (``level_spacing_mm``,
    ``level_spacing_mad_mm``; None without a pair). The canal's joint decoding of the levels
    reads them (``localiser.levels``)."""
    gaps = adjacent_gaps(landmarks, ["study_id"])
    if not len(gaps):
        return {"level_spacing_mm": None, "level_spacing_mad_mm": None}
    median = float(np.median(gaps))
    return {
        "level_spacing_mm": median,
        "level_spacing_mad_mm": float(np.median(np.abs(gaps - median))),
    }
