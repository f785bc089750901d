"""Laterality and axial levels from geometry, on series written in reversed, shuffled and
several-stack order: the answer must follow ImagePositionPatient, never the instance number."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from disc_grade.dicom.axial_levels import axial_slice_levels, disc_centres_mm
from disc_grade.dicom.geometry import pixel_to_patient
from disc_grade.dicom.laterality import sagittal_midline_x, side_of

SAGITTAL = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)
LEVELS = ("l1_l2", "l2_l3", "l3_l4", "l4_l5", "l5_s1")
# disc centres (LPS mm): going down the spine z falls, lordosis moves them forward and back
DISCS = pd.DataFrame(
    {
        "level": LEVELS,
        "px": [1.0, 0.5, 0.0, -0.5, -1.0],
        "py": [10.0, 6.0, 4.0, 6.0, 12.0],
        "pz": [0.0, -38.0, -77.0, -115.0, -150.0],
    }
)
TILT_DEG = (-8.0, -3.0, 2.0, 9.0, 18.0)  # each stack angled to its disc


def _order(n: int, how: str, rng: np.random.Generator) -> np.ndarray:
    """Instance number of the slice at each spatial index."""
    if how == "forward":
        return np.arange(1, n + 1)
    if how == "reversed":
        return np.arange(n, 0, -1)
    return rng.permutation(n) + 1


def _sagittal(how: str, midline: float = 3.0, n: int = 15, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = midline + (np.arange(n) - (n - 1) / 2) * 3.5  # patient right (low x) to left
    table = pd.DataFrame(
        {"instance_number": _order(n, how, rng), "ipp_x": x, "ipp_y": -120.0, "ipp_z": 120.0}
    )
    return table.sample(frac=1.0, random_state=seed) if how == "shuffled" else table


def _axial_stack(level_index: int, offsets_mm, tilt_deg: float) -> list[dict]:
    t = np.deg2rad(tilt_deg)
    # rows run to patient left (+x); columns run posterior, tilted about x towards the feet
    col = np.array([0.0, np.cos(t), -np.sin(t)])
    normal = np.cross([1.0, 0.0, 0.0], col)
    centre = DISCS.loc[level_index, ["px", "py", "pz"]].to_numpy(dtype=float)
    rows = []
    for d in offsets_mm:
        origin = centre + d * normal - 80.0 * np.array([1.0, 0.0, 0.0]) - 80.0 * col
        rows.append(
            {
                "true_level": LEVELS[level_index],
                "true_offset": abs(d),
                "ipp_x": origin[0],
                "ipp_y": origin[1],
                "ipp_z": origin[2],
                **{f"iop_{i}": v for i, v in enumerate([1.0, 0.0, 0.0, *col])},
            }
        )
    return rows


def _axial_series(levels: range, how: str, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [r for k in levels for r in _axial_stack(k, (-4.0, 0.0, 4.0), TILT_DEG[k])]
    # a slice between L2/L3 and L3/L4, far from both planes
    between = DISCS.loc[[1, 2], ["px", "py", "pz"]].mean().to_numpy()
    rows.append(
        {
            "true_level": None,
            "true_offset": np.nan,
            "ipp_x": between[0] - 80,
            "ipp_y": between[1] - 80,
            "ipp_z": between[2],
            **{f"iop_{i}": v for i, v in enumerate([1.0, 0.0, 0.0, 0.0, 1.0, 0.0])},
        }
    )
    table = pd.DataFrame(rows)
    table["instance_number"] = _order(len(table), how, rng)
    return table.sample(frac=1.0, random_state=seed) if how == "shuffled" else table


def _x(column, row, position, orientation, spacing) -> float:
    """The LPS x (mm, + towards the patient's left) of a pixel of one slice."""
    return float(pixel_to_patient(column, row, position, orientation, spacing)[0])


@pytest.mark.parametrize("how", ["forward", "reversed", "shuffled"])
def test_side_follows_position_not_instance_order(how):
    sagittal = _sagittal(how)
    positions = sagittal[["ipp_x", "ipp_y", "ipp_z"]].to_numpy()
    midline = sagittal_midline_x(positions)
    assert midline == pytest.approx(3.0)
    for row in sagittal.itertuples():
        x = _x(40.0, 60.0, (row.ipp_x, row.ipp_y, row.ipp_z), SAGITTAL, (0.8, 0.8))
        expected = None if abs(row.ipp_x - 3.0) < 1e-9 else ("left" if row.ipp_x > 3.0 else "right")
        assert side_of(x, midline) == expected


def test_side_of_an_axial_pixel_uses_the_row_direction():
    # an axial slice whose rows run to the patient's right (flipped display): column 10 is left
    flipped = (-1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
    x = _x(10.0, 50.0, (80.0, -80.0, 0.0), flipped, (1.0, 1.0))
    assert side_of(x, 0.0) == "left"
    assert side_of(_x(150.0, 50.0, (80.0, -80.0, 0.0), flipped, (1.0, 1.0)), 0.0) == "right"
    assert side_of(0.2, 0.0, tolerance_mm=0.5) is None


@pytest.mark.parametrize("how", ["forward", "reversed", "shuffled"])
def test_axial_levels_from_the_nearest_disc_plane(how):
    axial = _axial_series(range(5), how)
    levelled = axial_slice_levels(axial, DISCS, max_distance_mm=8.0)
    stacked = levelled[levelled["true_level"].notna()]
    assert (stacked["level"] == stacked["true_level"]).all()
    np.testing.assert_allclose(stacked["distance_mm"], stacked["true_offset"], atol=1e-6)
    assert levelled.loc[levelled["true_level"].isna(), "level"].isna().all()
    centre = levelled[levelled["level"] == "l4_l5"].nsmallest(1, "distance_mm")
    assert centre["true_offset"].iloc[0] == pytest.approx(0.0)


def test_two_axial_series_split_the_levels():
    upper = axial_slice_levels(_axial_series(range(0, 3), "shuffled", 1), DISCS, 8.0)
    lower = axial_slice_levels(_axial_series(range(3, 5), "reversed", 2), DISCS, 8.0)
    both = pd.concat([upper.assign(series=1), lower.assign(series=2)])
    found = both.dropna(subset=["level"]).groupby("level")["series"].unique()
    assert {k: list(v) for k, v in found.items()} == {
        "l1_l2": [1],
        "l2_l3": [1],
        "l3_l4": [1],
        "l4_l5": [2],
        "l5_s1": [2],
    }
    # the lower series holds no slice of L1/L2: nothing is invented
    assert not (lower["level"] == "l1_l2").any()


def test_disc_centres_from_sagittal_pixels():
    points = pd.DataFrame(
        {
            "level": ["l4_l5"],
            "x": [50.0],
            "y": [100.0],
            "ipp_x": [2.0],
            "ipp_y": [-100.0],
            "ipp_z": [90.0],
            **{f"iop_{i}": [v] for i, v in enumerate(SAGITTAL)},
            "pixel_spacing_row": [0.5],
            "pixel_spacing_col": [0.8],
        }
    )
    centre = disc_centres_mm(points).iloc[0]
    assert (centre.px, centre.py, centre.pz) == pytest.approx((2.0, -100.0 + 40.0, 90.0 - 50.0))
    with pytest.raises(ValueError, match="max_distance_mm"):
        axial_slice_levels(_axial_series(range(1), "forward"), DISCS, 0.0)
