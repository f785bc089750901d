"""A condition's localiser training units: its labelled points on the grid and their slices.

Every condition's localiser has the same design (``localiser.model``): a UNet gives one heatmap
per point on each slice, with its neighbours as context. What a unit is and which map a target
belongs to come from the condition's spec (``conditions``): a whole series for the canal (five
maps, one per level), one side of a series for the foramina (five, one per level), one level of
an axial series for the recesses (two, by image column).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from disc_grade.conditions import ConditionSpec
from disc_grade.dicom.geometry import with_slice_geometry
from disc_grade.localiser.data import to_grid_coords
from disc_grade.localiser.model import network_input, peak_point

UNIT_KEYS = {"series": None, "side": "side", "level": "level"}


def point_columns(spec: ConditionSpec) -> list[str]:
    """Grid x, y column names of the condition's points, point by point."""
    return [f"{axis}_{k}" for k in range(spec.n_maps) for axis in ("gx", "gy")]


def rank_columns(spec: ConditionSpec) -> list[str]:
    """Slice rank column names of the condition's points."""
    return [f"rank_{k}" for k in range(spec.n_maps)]


def training_units(
    spec: ConditionSpec,
    targets: pd.DataFrame,
    index: pd.DataFrame,
    dicom_index: pd.DataFrame,
    size: int,
) -> pd.DataFrame:
    """One row per unit of the condition's labelled targets.

    Args:
        targets: the condition's aligned targets (``study_id, series_id, instance_number,
            slice_rank, condition, level, x, y, rows, columns, split``).
        index: ``localiser.data.build_grids`` index of the targets' series (``offset``,
            ``n_slices``).
        dicom_index: per file ``iop_0`` (the row direction's x), for the recesses' maps.

    Returns:
        ``study_id, series_id``, the unit's key (``side`` or ``level``, if any), ``split``,
        ``offset, n_slices``, ``gx_k, gy_k`` (NaN where unlabelled) and ``rank_k`` (-1 where
        unlabelled) for each map k.
    """
    rows = with_slice_geometry(targets, dicom_index, ["iop_0"])
    gx, gy = to_grid_coords(rows["x"], rows["y"], rows["columns"], rows["rows"], size)
    rows = rows.assign(
        gx=gx,
        gy=gy,
        side=rows["condition"].map(spec.side_of_condition),
        channel=[
            spec.channel(c, lvl, d)
            for c, lvl, d in zip(rows["condition"], rows["level"], rows["iop_0"], strict=True)
        ],
    )
    key = UNIT_KEYS[spec.unit]
    group_keys = ["study_id", "series_id", *([key] if key else [])]
    units = []
    for values, group in rows.groupby(group_keys, sort=True):
        record = dict(zip(group_keys, values, strict=True))
        record["split"] = group["split"].iat[0]
        for k in range(spec.n_maps):
            own = group[group["channel"] == k]
            found = not own.empty
            record[f"gx_{k}"] = float(own["gx"].iat[0]) if found else np.nan
            record[f"gy_{k}"] = float(own["gy"].iat[0]) if found else np.nan
            record[f"rank_{k}"] = int(own["slice_rank"].iat[0]) if found else -1
        units.append(record)
    first = index[index["rank"] == 0][["study_id", "series_id", "offset", "n_slices"]]
    columns = [*group_keys, "split", *point_columns(spec), *rank_columns(spec)]
    table = pd.DataFrame(units, columns=columns)
    return table.merge(first, on=["study_id", "series_id"], how="inner")


@torch.no_grad()
def labelled_slice_error(
    net: torch.nn.Module, slices: np.ndarray, units: pd.DataFrame, batch: int = 32
) -> float:
    """Mean grid distance of each labelled point from its map's peak on its labelled slice.

    The validation score of every localiser: where each point is found on its own slice (which
    slice holds it is measured on the test studies, where the slice is chosen).
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
