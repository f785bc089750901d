"""Localisers for the foramina (sagittal T1) and the lateral recesses (axial T2).

They reuse the canal localiser's design: a UNet gives one heatmap per point on each slice (with
its neighbours as context), trained with a spatial cross-entropy where the point is labelled and
a presence term saying whether it is on this slice at all. What differs is what a point is and
how its slice is chosen:

- foraminal: one point per level (5 maps). A unit is one side of a sagittal T1 series. Each
  level takes the slice of its side with the most confident map: foramina of one side may lie
  on different slices. The side of a slice comes from geometry (its LPS x against the midline).
- subarticular: two points per slice (2 maps), the recess with the smaller image column first.
  A unit is one level of an axial series. The level takes the slice, among those geometry puts
  at that level, whose two maps are the most confident together. Which map is the patient's
  left follows from ImageOrientationPatient: when the row direction runs to +x (patient left),
  the left recess has the larger column.

Nothing here knows Kedro.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from disc_grade.dicom.geometry import patient_points, with_slice_geometry
from disc_grade.localiser.data import to_grid_coords
from disc_grade.localiser.model import network_input, peak_point
from disc_grade.rsna import LEVELS

LOCALISED_FAMILIES = ("foraminal", "subarticular")
UNIT_KEYS = {"foraminal": "side", "subarticular": "level"}


def _check(family: str) -> None:
    if family not in LOCALISED_FAMILIES:
        raise ValueError(f"family must be one of {LOCALISED_FAMILIES}, got '{family}'")


def n_points(family: str) -> int:
    """Heatmaps of the family's localiser: one per level (foramina), or one per recess."""
    _check(family)
    return len(LEVELS) if family == "foraminal" else 2


def recess_channel(side: str, row_direction_x: float) -> int:
    """The map of a recess: 0 for the smaller image column, 1 for the larger.

    ``row_direction_x`` is ImageOrientationPatient[0], the LPS x step along a row: positive when
    columns run towards the patient's left, so the left recess has the larger column.
    """
    if side not in ("left", "right"):
        raise ValueError(f"side must be 'left' or 'right', got '{side}'")
    if not np.isfinite(row_direction_x) or row_direction_x == 0:
        raise ValueError(
            "an axial slice's rows must run left-right (ImageOrientationPatient[0] = 0)"
        )
    return 1 if (side == "left") == (row_direction_x > 0) else 0


def recess_side(channel: int, row_direction_x: float) -> str:
    """The patient side of recess map ``channel`` on a slice (the inverse of ``recess_channel``)."""
    return "left" if recess_channel("left", row_direction_x) == channel else "right"


def point_channel(family: str, condition: str, level: str, row_direction_x: float) -> int:
    """The map that localises one labelled target of the family."""
    _check(family)
    if family == "foraminal":
        return LEVELS.index(level)
    return recess_channel(condition.split("_")[0], row_direction_x)


def point_columns(family: str) -> list[str]:
    """Grid x, y column names of the family's points, point by point."""
    return [f"{axis}_{k}" for k in range(n_points(family)) for axis in ("gx", "gy")]


def rank_columns(family: str) -> list[str]:
    """Slice rank column names of the family's points."""
    return [f"rank_{k}" for k in range(n_points(family))]


def training_units(
    targets: pd.DataFrame, index: pd.DataFrame, dicom_index: pd.DataFrame, family: str, size: int
) -> pd.DataFrame:
    """One row per unit of the family's labelled targets: its points on the grid and their slices.

    Args:
        targets: the family's aligned targets (``study_id, series_id, instance_number,
            slice_rank, condition, level, x, y, rows, columns, split``).
        index: ``build_grids`` index of the targets' series (``offset``, ``n_slices``).
        dicom_index: per file ``iop_0`` (the row direction's x), for the recesses' maps.

    Returns:
        ``study_id, series_id, <side|level>, split, offset, n_slices``, ``gx_k, gy_k`` (NaN where
        unlabelled) and ``rank_k`` (-1 where unlabelled) for each point k.
    """
    _check(family)
    key = UNIT_KEYS[family]
    rows = with_slice_geometry(targets, dicom_index, ["iop_0"])
    gx, gy = to_grid_coords(rows["x"], rows["y"], rows["columns"], rows["rows"], size)
    rows = rows.assign(
        gx=gx,
        gy=gy,
        side=rows["condition"].str.split("_").str[0],
        channel=[
            point_channel(family, c, lvl, d)
            for c, lvl, d in zip(rows["condition"], rows["level"], rows["iop_0"], strict=True)
        ],
    )
    units = []
    for (study_id, series_id, unit), group in rows.groupby(
        ["study_id", "series_id", key], sort=True
    ):
        record = {"study_id": study_id, "series_id": series_id, key: unit}
        record["split"] = group["split"].iat[0]
        for k in range(n_points(family)):
            own = group[group["channel"] == k]
            found = not own.empty
            record[f"gx_{k}"] = float(own["gx"].iat[0]) if found else np.nan
            record[f"gy_{k}"] = float(own["gy"].iat[0]) if found else np.nan
            record[f"rank_{k}"] = int(own["slice_rank"].iat[0]) if found else -1
        units.append(record)
    first = index[index["rank"] == 0][["study_id", "series_id", "offset", "n_slices"]]
    return pd.DataFrame(units).merge(first, on=["study_id", "series_id"], how="inner")


@torch.no_grad()
def labelled_slice_error(
    net: torch.nn.Module, slices: np.ndarray, units: pd.DataFrame, batch: int = 32
) -> float:
    """Mean grid distance of each labelled point from its map's peak on its labelled slice.

    The validation score of a family localiser: where each point is found on its own slice
    (which slice holds it is measured on the test studies, where the slice is chosen).
    """
    net.eval()
    grids = torch.from_numpy(np.asarray(slices))
    ranks = units[[c for c in units if c.startswith("rank_")]].to_numpy(dtype=np.int64)
    pairs = sorted({(i, int(r)) for i in range(len(units)) for r in ranks[i] if r >= 0})
    errors = []
    for start in range(0, len(pairs), batch):
        chunk = pairs[start : start + batch]
        rows = units.iloc[[i for i, _ in chunk]]
        x = network_input(
            grids,
            torch.as_tensor(rows["offset"].to_numpy(dtype=np.int64)),
            torch.tensor([r for _, r in chunk]),
            torch.as_tensor(rows["n_slices"].to_numpy(dtype=np.int64)),
        )
        maps = net(x).float().numpy()
        for (i, rank), unit_maps in zip(chunk, maps, strict=True):
            for k in np.flatnonzero(ranks[i] == rank):
                gx, gy, _ = peak_point(unit_maps[k])
                truth = units[[f"gx_{k}", f"gy_{k}"]].iloc[i].to_numpy(dtype=float)
                errors.append(float(np.hypot(gx - truth[0], gy - truth[1])))
    return float(np.mean(errors)) if errors else float("nan")


def _in_patient_space(rows: pd.DataFrame, dicom_index: pd.DataFrame) -> np.ndarray:
    return patient_points(with_slice_geometry(rows, dicom_index))


def target_errors(
    found: pd.DataFrame, reader: pd.DataFrame, dicom_index: pd.DataFrame
) -> pd.DataFrame:
    """Per reader target: where the predicted target lies from it.

    ``error_mm`` is the distance in patient space (LPS mm), so a wrong slice, a wrong side or a
    wrong level all count; ``same_slice`` says whether it is the reader's instance. Targets
    without a prediction have NaN errors and ``found`` False.
    """
    keys = ["study_id", "condition", "level"]
    spacing = ["pixel_spacing_row", "pixel_spacing_col"]
    own = reader[[*keys, "split", "series_id", "instance_number", "x", "y", *spacing]]
    own = own.reset_index(drop=True)
    predicted = found[[*keys, "series_id", "instance_number", "x", "y", *spacing]]
    merged = own.merge(predicted, on=keys, how="left", suffixes=("", "_pred"), validate="1:1")
    truth = _in_patient_space(merged, dicom_index)
    hit = merged["x_pred"].notna()
    guess = np.full((len(merged), 3), np.nan)
    if hit.any():
        rows = merged[hit][
            ["study_id", "series_id_pred", "instance_number_pred", "x_pred", "y_pred"]
        ].set_axis(["study_id", "series_id", "instance_number", "x", "y"], axis=1)
        rows[spacing] = merged.loc[hit, [f"{c}_pred" for c in spacing]].to_numpy()
        guess[hit.to_numpy()] = _in_patient_space(
            rows.astype({"series_id": "int64", "instance_number": "int64"}), dicom_index
        )
    return merged[[*keys, "split", "series_id", "instance_number", "x", "y"]].assign(
        found=hit.to_numpy(),
        error_mm=np.linalg.norm(guess - truth, axis=1),
        same_slice=hit.to_numpy()
        & (merged["series_id_pred"] == merged["series_id"]).to_numpy()
        & (merged["instance_number_pred"] == merged["instance_number"]).to_numpy(),
    )


def error_summary(errors: pd.DataFrame, within_mm: float) -> dict:
    """Targets, how many were found, the median and 90th-centile error (mm) of the found, the
    share found within ``within_mm`` of the reader's point, and the share on the reader's slice
    (both over every target: a missed one counts as wrong)."""
    found = errors[errors["found"]]
    n = len(errors)
    return {
        "n_targets": int(n),
        "n_found": int(len(found)),
        "median_error_mm": float(found["error_mm"].median()) if len(found) else None,
        "p90_error_mm": float(found["error_mm"].quantile(0.9)) if len(found) else None,
        f"within_{within_mm:g}mm": float((found["error_mm"] <= within_mm).sum() / n) if n else None,
        "same_slice": float(found["same_slice"].sum() / n) if n else None,
    }
