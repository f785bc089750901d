"""How a condition's targets are chosen from its localiser's maps: candidates by geometry,
shared or own slices, confidence and the image's bounds."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from disc_grade.conditions import spec_of
from disc_grade.localiser.candidates import NO_CANAL_POINT, NO_SLICE_ON_SIDE
from disc_grade.localiser.find import (
    NO_SERIES,
    NOT_CONFIDENT,
    OUTSIDE,
    find_study_targets,
    find_targets,
)
from disc_grade.rsna import LEVELS

SAGITTAL = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)
SIZE = 16  # grid side
GEOMETRY = pd.DataFrame(
    {"rows": 160, "columns": 160, "pixel_spacing_row": 1.0, "pixel_spacing_col": 1.0},
    index=pd.Index([7], name="series_id"),
)
SETTINGS = {
    "grid_size": SIZE,
    "min_peak": 0.5,
    "prior_mm": None,
    "max_disc_distance_mm": 15.0,
    "offsets": {"lateral_mm": 15.0},
}


def _slices(xs, orientation=SAGITTAL) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "study_id": 1,
            "series_id": 7,
            "instance_number": np.arange(1, len(xs) + 1),
            "slice_rank": np.arange(len(xs)),
            "ipp_x": xs,
            "ipp_y": 0.0,
            "ipp_z": 0.0,
            **{f"iop_{i}": v for i, v in enumerate(orientation)},
        }
    )


def _maps(n_slices: int, n_maps: int, peaks: dict) -> dict:
    """Logit maps of one series: ``peaks[(rank, map)] = (gx, gy, logit)``, else -10 everywhere."""
    logits = np.full((n_slices, n_maps, SIZE, SIZE), -10.0)
    for (rank, k), (gx, gy, value) in peaks.items():
        logits[rank, k, gy, gx] = value
    conf = 1 / (1 + np.exp(-logits.reshape(n_slices, n_maps, -1).max(axis=2)))
    return {7: (logits, conf)}


def test_the_canal_takes_one_slice_for_every_level_and_orders_the_levels_down_the_spine():
    spec = spec_of("spinal")
    # slice 1 is the most confident overall; on it maps 0 and 1 disagree with the height order
    peaks = {(1, k): (8, [4, 2, 6, 8, 10][k], 5.0) for k in range(5)} | {(0, 0): (8, 8, 6.0)}
    found, missing = find_study_targets(
        spec, 1, _slices([-3.0, 0.0, 3.0]), _maps(3, 5, peaks), pd.DataFrame(), GEOMETRY, SETTINGS
    )
    assert not missing and len(found) == 5
    assert {t["slice_rank"] for t in found} == {1}  # one slice for all, not slice 0's lone peak
    ys = [t["y"] for t in sorted(found, key=lambda t: LEVELS.index(t["level"]))]
    assert ys == sorted(ys), "L1/L2 above L5/S1"


def test_a_foramen_takes_its_own_most_confident_slice_on_its_side():
    spec = spec_of("foraminal")
    xs = [-16.0, -14.0, 0.0, 14.0, 16.0]  # right of the midline (x < 0), then left
    peaks = {(4, 0): (5, 5, 3.0), (3, 0): (5, 5, 1.0), (0, 0): (6, 6, 3.0)}  # L1/L2 only
    peaks |= {(3, k): (5, 5, 2.0) for k in range(1, 5)} | {(1, k): (5, 5, 2.0) for k in range(1, 5)}
    landmarks = pd.DataFrame({"study_id": [1], "level": ["l1_l2"], "px": [0.0]})
    found, missing = find_study_targets(
        spec, 1, _slices(xs), _maps(5, 5, peaks), landmarks, GEOMETRY, SETTINGS
    )
    by = {(t["condition"].split("_")[0], t["level"]): t["slice_rank"] for t in found}
    assert by[("left", "l1_l2")] == 4 and by[("right", "l1_l2")] == 0
    assert by[("left", "l3_l4")] == 3 and by[("right", "l3_l4")] == 1
    assert not missing


def test_a_side_without_slices_is_flagged_with_the_reason():
    found, missing = find_study_targets(
        spec_of("foraminal"),
        1,
        _slices([5.0, 9.0]),
        _maps(2, 5, {}),
        pd.DataFrame({"study_id": [1], "level": ["l1_l2"], "px": [0.0]}),
        GEOMETRY,
        SETTINGS,
    )
    right = [m for m in missing if m[1].startswith("right")]
    assert len(right) == 5 and {m[3] for m in right} == {
        NO_SLICE_ON_SIDE.format(series="Sagittal T1")
    }
    assert all(m[3] == NOT_CONFIDENT.format(**SETTINGS) for m in missing if m[1].startswith("left"))
    assert found == []


@pytest.mark.parametrize("row_x", [1.0, -1.0])
def test_a_recess_takes_the_slice_at_its_level_and_its_map_follows_the_orientation(row_x):
    spec = spec_of("subarticular")
    axial = (row_x, 0.0, 0.0, 0.0, 1.0, 0.0)
    # three axial slices at z = 0, 4, 40; the L4/L5 disc at z = 3: slices 0 and 1 are at L4/L5
    slices = _slices([0.0, 0.0, 0.0], axial).assign(ipp_z=[0.0, 4.0, 40.0])
    landmarks = pd.DataFrame(
        {"study_id": 1, "level": ["l4_l5", "l1_l2"], "px": 0.0, "py": 0.0, "pz": [3.0, 80.0]}
    )
    peaks = {(1, 0): (3, 8, 4.0), (1, 1): (12, 8, 4.0), (0, 0): (3, 8, 1.0), (2, 0): (3, 8, 9.0)}
    found, missing = find_study_targets(
        spec, 1, slices, _maps(3, 2, peaks), landmarks, GEOMETRY, SETTINGS
    )
    at = {t["condition"]: t for t in found if t["level"] == "l4_l5"}
    assert {t["slice_rank"] for t in at.values()} == {1}  # slice 2 is far from every disc
    left_column = at["left_subarticular_stenosis"]["x"]
    assert (left_column > 80) == (row_x > 0), (
        "the left recess is the larger column when rows run left"
    )
    reasons = {(m[2], m[3]) for m in missing}
    assert ("l2_l3", NO_CANAL_POINT) in reasons  # no canal point: no disc plane to level by
    assert any(level == "l1_l2" and "within 15 mm" in reason for level, reason in reasons)


def test_a_target_outside_the_image_is_flagged_not_kept():
    small = GEOMETRY.assign(rows=10, columns=10)
    peaks = {(0, k): (15, 15, 5.0) for k in range(5)}
    found, missing = find_study_targets(
        spec_of("spinal"), 1, _slices([0.0]), _maps(1, 5, peaks), pd.DataFrame(), small, SETTINGS
    )
    assert found == [] or all(t["x"] <= 9 for t in found)
    assert {m[3] for m in missing} <= {OUTSIDE}


def test_a_study_without_the_conditions_series_gets_a_reason_for_every_target():
    series = pd.DataFrame({"series_id": [7], "instances_in_order": [[1]], **GEOMETRY.iloc[0]})
    empty = pd.DataFrame(columns=["study_id", "series_id"])
    found, missing = find_targets(
        spec_of("subarticular"),
        None,
        None,
        empty,
        series,
        pd.DataFrame(columns=["status", "series_id"]),
        pd.DataFrame(columns=["study_id", "level"]),
        [1],
        SETTINGS,
    )
    assert found.empty and len(missing) == 10
    assert set(missing["reason"]) == {NO_SERIES.format(series="Axial T2")}


def test_a_figure_panel_shows_the_slice_holding_most_points():
    from disc_grade.inference.figures import shown_slice

    rows = pd.DataFrame({"series_id": [7, 7, 7, 7, 7], "slice_rank": [1, 0, 1, 0, 1]})
    assert shown_slice(rows) == (7, 1)


@pytest.mark.parametrize(
    "failure",
    [
        # what pydicom raises for a transfer syntax no installed plugin decodes, and what a
        # decoder plugin raises on corrupt fragments: neither is an OSError or a ValueError
        NotImplementedError("unable to decode pixel data with a transfer syntax UID of 1.2.3"),
        RuntimeError("libjpeg error: corrupt JPEG data"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_a_series_that_cannot_be_decoded_flags_its_targets(
    small_cohort_tables, monkeypatch, caplog, failure
):
    from disc_grade.inference.studies import choose_series
    from disc_grade.localiser import find

    tables = small_cohort_tables

    def broken(*args):
        raise failure

    monkeypatch.setattr(find, "series_grid", broken)
    study = int(tables.discs["study_id"].iloc[0])
    spec = spec_of("foraminal")
    chosen = choose_series(spec, tables.series, tables.descriptions)
    with caplog.at_level(logging.WARNING, logger="disc_grade.localiser.find"):
        found, missing = find.find_targets(
            spec,
            None,
            "unused",
            chosen,
            tables.series,
            tables.index,
            tables.landmarks,
            [study],
            {"grid_size": 32},
        )
    assert found.empty and len(missing) == 2 * len(LEVELS)
    assert set(missing["reason"]) == {find.NOT_DECODABLE.format(series="Sagittal T1")}
    series_id = int(chosen.loc[chosen["study_id"] == study, "series_id"].iloc[0])
    assert f"study {study} series {series_id} not decodable: {failure}" in caplog.text
