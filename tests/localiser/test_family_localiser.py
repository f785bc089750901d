"""The foramina's and recesses' localisers: training units, samples, maps by side, and how a
study's targets are chosen from the maps (side and level by geometry)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from disc_grade.localiser.families import (
    error_summary,
    recess_channel,
    recess_side,
    target_errors,
    training_units,
)
from disc_grade.localiser.train import training_samples
from disc_grade.rsna import LEVELS


@pytest.mark.parametrize("row_x", [1.0, -1.0, 0.7])
def test_recess_maps_follow_the_row_direction(row_x):
    # rows running to the patient's left (+x) put the left recess at the larger column
    assert recess_channel("left", row_x) == (1 if row_x > 0 else 0)
    assert recess_channel("right", row_x) == 1 - recess_channel("left", row_x)
    for side in ("left", "right"):
        assert recess_side(recess_channel(side, row_x), row_x) == side
    with pytest.raises(ValueError, match="left-right"):
        recess_channel("left", 0.0)


def test_samples_score_each_point_on_its_own_slice_and_negatives_away_from_all():
    # one series, two units (the two sides): left foramina on slice 2 (L5/S1 on 3), right on 8
    units = pd.DataFrame(
        {
            "study_id": [1, 1],
            "series_id": [5, 5],
            "offset": [0, 0],
            "n_slices": [11, 11],
            "rank_0": [2, 8],
            "rank_1": [2, 8],
            "rank_2": [3, -1],
        }
    )
    samples = training_samples(units, ["rank_0", "rank_1", "rank_2"], negatives=20, seed=0, gap=1)
    positives = samples[samples[["present_0", "present_1", "present_2"]].any(axis=1)]
    assert sorted(positives["rank"].unique()) == [2, 3, 8]
    on_2 = positives[positives["rank"] == 2].iloc[0]
    assert on_2[["present_0", "present_1", "present_2"]].tolist() == [True, True, False]
    assert on_2["known_2"]  # L5/S1 is labelled on slice 3: absent here
    on_8 = positives[positives["rank"] == 8].iloc[0]
    assert not on_8["known_2"]  # unlabelled on the right: not scored
    negatives = samples[~samples[["present_0", "present_1", "present_2"]].any(axis=1)]
    assert set(negatives["rank"]) == set(range(11)) - {2, 3, 8}  # gap 1: every other slice
    assert negatives[["known_0", "known_1", "known_2"]].all(axis=None)
    wider = training_samples(units, ["rank_0", "rank_1", "rank_2"], 20, 0, gap=2)
    assert set(wider["rank"]) - {2, 3, 8} == set(range(11)) - {1, 2, 3, 4, 7, 8, 9}


def test_target_errors_count_a_wrong_slice_in_patient_space():
    index = pd.DataFrame(
        {
            "study_id": 1,
            "series_id": 5,
            "instance_number": [1, 2],
            "status": "ok",
            "ipp_x": [10.0, 13.5],  # sagittal slices 3.5 mm apart
            "ipp_y": 0.0,
            "ipp_z": 0.0,
            **{f"iop_{i}": v for i, v in enumerate((0.0, 1.0, 0.0, 0.0, 0.0, -1.0))},
        }
    )
    keys = {"study_id": 1, "series_id": 5, "pixel_spacing_row": 0.5, "pixel_spacing_col": 0.5}
    reader = pd.DataFrame(
        {
            **keys,
            "condition": "left_neural_foraminal_narrowing",
            "level": ["l1_l2", "l2_l3", "l3_l4"],
            "split": "test",
            "instance_number": 1,
            "x": 40.0,
            "y": 60.0,
        }
    )
    found = reader.drop(columns="split").iloc[:2].copy()
    found.loc[0, "x"] = 46.0  # 6 px = 3 mm off along the row, same slice
    found.loc[1, "instance_number"] = 2  # the next slice: 3.5 mm out
    errors = target_errors(found, reader, index)
    assert errors["error_mm"].iloc[:2].tolist() == pytest.approx([3.0, 3.5])
    assert errors["same_slice"].tolist() == [True, False, False]
    assert errors["found"].tolist() == [True, True, False]
    summary = error_summary(errors, within_mm=3.2)
    assert summary["n_found"] == 2 and summary["within_3.2mm"] == pytest.approx(1 / 3)
    assert summary["same_slice"] == pytest.approx(1 / 3)


# --- a study's targets from the maps, with an oracle in place of the network -------------


class _Oracle(torch.nn.Module):
    """Maps with a sharp peak where a point is labelled on the slice, flat elsewhere.

    The slice is recognised by its pixels: the patched grid fills slice ``r`` of the series
    coded ``c`` with ``32 c + r``.
    """

    def __init__(self, peaks: dict, n_points: int, size: int):
        super().__init__()
        self.peaks, self.n_points, self.size = peaks, n_points, size

    def forward(self, x):
        out = torch.full((x.shape[0], self.n_points, self.size, self.size), -6.0)
        axis = torch.arange(self.size, dtype=torch.float32)
        for b, value in enumerate(x[:, 1, 0, 0].round().long().tolist()):
            for k, (gx, gy) in self.peaks.get(value, {}).items():
                d2 = (axis.view(1, -1) - gx) ** 2 + (axis.view(-1, 1) - gy) ** 2
                out[b, k] = 6.0 - d2 / 2.0
        return out


@pytest.fixture(scope="module")
def cohort(small_cohort_tables):
    train, coords, descriptions, series, index, discs = small_cohort_tables
    return train, coords, descriptions, series, index, discs.assign(split="test", fold=-1)


@pytest.mark.parametrize("family", ["foraminal", "subarticular"])
def test_localised_targets_are_the_labelled_ones_when_the_maps_are_right(
    cohort, family, monkeypatch
):
    from disc_grade.alignment.families import align_family, canal_centres
    from disc_grade.inference import family_targets
    from disc_grade.inference.studies import choose_family_series
    from disc_grade.localiser.data import to_grid_coords
    from disc_grade.localiser.families import n_points, point_channel

    train, coords, descriptions, series, index, discs = cohort
    params = {"side_tolerance_mm": 1.0, "max_disc_distance_mm": 15.0}
    labelled, _ = align_family(train, coords, descriptions, series, index, discs, family, params)
    chosen = choose_family_series(series, descriptions, family)
    code = {sid: i for i, sid in enumerate(chosen["series_id"])}
    size = 64

    def grid(root, study_id, series_id, instances, grid_size):
        ranks = np.arange(len(instances), dtype=np.float32)
        return np.broadcast_to(
            (32 * code[series_id] + ranks)[:, None, None], (len(instances), grid_size, grid_size)
        ).copy()

    monkeypatch.setattr(family_targets, "series_grid", grid)
    rows = labelled[labelled["series_id"].isin(code)].merge(
        index[["study_id", "series_id", "instance_number", "iop_0"]],
        on=["study_id", "series_id", "instance_number"],
    )
    gx, gy = to_grid_coords(rows["x"], rows["y"], rows["columns"], rows["rows"], size)
    peaks: dict = {}
    for r, x, y in zip(rows.itertuples(), gx, gy, strict=True):
        k = point_channel(family, r.condition, r.level, r.iop_0)
        peaks.setdefault(32 * code[r.series_id] + r.slice_rank, {})[k] = (x, y)
    model = _Oracle(peaks, n_points(family), size)
    canal = canal_centres(discs, index)
    studies = sorted(set(rows["study_id"]))
    found, missing = family_targets.localise_targets(
        family, model, size, 0.5, "unused", canal, chosen, series, index, params, studies, LEVELS
    )
    assert len(found) + len(missing) == len(studies) * 2 * len(LEVELS)
    both = rows.merge(found, on=["study_id", "condition", "level"], suffixes=("", "_found"))
    # a labelled recess is missed only where no canal point gives its disc plane
    missed = missing.merge(rows, on=["study_id", "condition", "level"])
    assert set(missed["reason"]) <= {family_targets.NO_CANAL_POINT}
    assert len(both) + len(missed) == len(rows) and len(both) >= 0.8 * len(rows)
    assert (both["instance_number_found"] == both["instance_number"]).all()
    error = np.hypot(both["x_found"] - both["x"], both["y_found"] - both["y"])
    assert error.max() < 0.5 * (both["columns"] / size).max(), error.describe()


@pytest.mark.parametrize("family", ["foraminal", "subarticular"])
def test_training_units_hold_every_labelled_point_on_its_map(cohort, small_cohort, family):
    from disc_grade.alignment.families import align_family
    from disc_grade.localiser.data import build_grids, series_geometry

    train, coords, descriptions, series, index, discs = cohort
    params = {"side_tolerance_mm": 1.0, "max_disc_distance_mm": 15.0}
    labelled, _ = align_family(train, coords, descriptions, series, index, discs, family, params)
    images = small_cohort[0] / "train_images"
    _, grid_index, _ = build_grids(images, series_geometry(labelled, series), 32)
    units = training_units(labelled, grid_index, index, family, 32)
    ranks = units[[c for c in units if c.startswith("rank_")]].to_numpy()
    assert (ranks >= 0).sum() == len(labelled)  # every target is one point of one unit
    if family == "foraminal":
        assert units.groupby("series_id").size().max() <= 2  # one unit per side
        assert set(units["side"]) == {"left", "right"}
    else:
        both = units[(units["rank_0"] >= 0) & (units["rank_1"] >= 0)]
        assert len(both) > 0 and (both["gx_1"] > both["gx_0"]).all()  # map 1: larger column


def test_a_series_that_cannot_be_decoded_flags_its_targets(cohort, monkeypatch):
    from disc_grade.alignment.families import canal_centres
    from disc_grade.inference import family_targets
    from disc_grade.inference.studies import choose_family_series

    train, coords, descriptions, series, index, discs = cohort

    def broken(*args):
        raise ValueError("no pixel data")

    monkeypatch.setattr(family_targets, "series_grid", broken)
    study = int(discs["study_id"].iloc[0])
    chosen = choose_family_series(series, descriptions, "foraminal")
    found, missing = family_targets.localise_targets(
        "foraminal",
        None,
        32,
        0.5,
        "unused",
        canal_centres(discs, index),
        chosen,
        series,
        index,
        {},
        [study],
        LEVELS,
    )
    assert found.empty and len(missing) == 2 * len(LEVELS)
    expected = family_targets.NOT_DECODABLE.format(description="sagittal T1")
    assert set(missing["reason"]) == {expected}
