"""Every condition's localiser: training units, samples, maps by side, how a study's targets are
chosen from the maps (side and level by geometry), and how far they land from the reader's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from disc_grade.conditions import CONDITION_NAMES, spec_of
from disc_grade.localiser.evaluate import error_summary, target_errors
from disc_grade.localiser.train import training_samples
from disc_grade.localiser.units import training_units
from disc_grade.rsna import LEVELS
from tests.conftest import align


@pytest.mark.parametrize("row_x", [1.0, -1.0, 0.7])
def test_recess_maps_follow_the_row_direction(row_x):
    # rows running to the patient's left (+x) put the left recess at the larger column
    spec = spec_of("subarticular")
    left, right = spec.conditions
    assert spec.channel(left, "l1_l2", row_x) == (1 if row_x > 0 else 0)
    assert spec.channel(right, "l1_l2", row_x) == 1 - spec.channel(left, "l1_l2", row_x)
    with pytest.raises(ValueError, match="left-right"):
        spec.channel(left, "l1_l2", 0.0)
    assert spec_of("foraminal").channel(left, "l4_l5", row_x) == LEVELS.index("l4_l5")


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
            "label": 0,
            "instance_number": 1,
            "x": 40.0,
            "y": [60.0, 72.0, 84.0],  # the levels 12 px (6 mm) apart down the slice
        }
    )
    found = reader.drop(columns=["split", "label"]).iloc[:2].assign(slice_rank=0)
    found.loc[0, "x"] = 46.0  # 6 px = 3 mm off along the row, same slice
    found.loc[1, "instance_number"] = 2  # the next slice: 3.5 mm out
    errors = target_errors(found, reader, index)
    assert errors["error_mm"].iloc[:2].tolist() == pytest.approx([3.0, 3.5])
    assert errors["same_slice"].tolist() == [True, False, False]
    assert errors["found"].tolist() == [True, True, False]
    # each found point is nearer its own level's labelled point than the others'
    assert errors["level_correct"].tolist() == [True, True, False]
    swapped = found.assign(y=[72.0, 60.0], instance_number=1)  # L1/L2 and L2/L3 exchanged
    assert target_errors(swapped, reader, index)["level_correct"].tolist() == [False] * 3
    summary = error_summary(errors, within_mm=3.2)
    assert summary["n_found"] == 2 and summary["within_3.2mm"] == pytest.approx(1 / 3)
    assert summary["same_slice"] == pytest.approx(1 / 3)
    assert summary["level_correct"] == pytest.approx(2 / 3)


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


@pytest.mark.parametrize("name", CONDITION_NAMES)
def test_found_targets_are_the_labelled_ones_when_the_maps_are_right(
    small_cohort_tables, name, monkeypatch
):
    from disc_grade.inference.studies import choose_series
    from disc_grade.localiser import candidates, find
    from disc_grade.localiser.data import to_grid_coords

    tables = small_cohort_tables
    spec = spec_of(name)
    labelled, _ = align(tables, name)
    chosen = choose_series(spec, tables.series, tables.descriptions)
    code = {sid: i for i, sid in enumerate(chosen["series_id"])}
    size = 64

    def grid(root, study_id, series_id, instances, grid_size):
        ranks = np.arange(len(instances), dtype=np.float32)
        return np.broadcast_to(
            (32 * code[series_id] + ranks)[:, None, None], (len(instances), grid_size, grid_size)
        ).copy()

    monkeypatch.setattr(find, "series_grid", grid)
    rows = labelled[labelled["series_id"].isin(code)].merge(
        tables.index[["study_id", "series_id", "instance_number", "iop_0"]],
        on=["study_id", "series_id", "instance_number"],
    )
    gx, gy = to_grid_coords(rows["x"], rows["y"], rows["columns"], rows["rows"], size)
    peaks: dict = {}
    for r, x, y in zip(rows.itertuples(), gx, gy, strict=True):
        k = spec.channel(r.condition, r.level, r.iop_0)
        peaks.setdefault(32 * code[r.series_id] + r.slice_rank, {})[k] = (x, y)
    model = _Oracle(peaks, spec.n_maps, size)
    studies = sorted(set(rows["study_id"]))
    settings = {
        "grid_size": size,
        "min_peak": 0.5,
        "prior_mm": None,
        "max_disc_distance_mm": 15.0,
        "offsets": {"lateral_mm": 15.0},
    }
    found, missing = find.find_targets(
        spec,
        model,
        "unused",
        chosen,
        tables.series,
        tables.index,
        tables.landmarks,
        studies,
        settings,
    )
    assert len(found) + len(missing) == len(studies) * len(spec.conditions) * len(LEVELS)
    both = rows.merge(found, on=["study_id", "condition", "level"], suffixes=("", "_found"))
    # a labelled recess is missed only where no canal point gives its disc plane
    missed = missing.merge(rows, on=["study_id", "condition", "level"])
    assert set(missed["reason"]) <= {candidates.NO_CANAL_POINT}
    assert len(both) + len(missed) == len(rows) and len(both) >= 0.8 * len(rows)
    assert (both["instance_number_found"] == both["instance_number"]).all()
    error = np.hypot(both["x_found"] - both["x"], both["y_found"] - both["y"])
    assert error.max() < 0.5 * (both["columns"] / size).max(), error.describe()


@pytest.mark.parametrize("name", CONDITION_NAMES)
def test_training_units_hold_every_labelled_point_on_its_map(
    small_cohort_tables, small_cohort, name
):
    from disc_grade.localiser.data import build_grids, series_geometry

    tables = small_cohort_tables
    labelled, _ = align(tables, name)
    images = small_cohort[0] / "train_images"
    _, grid_index, _ = build_grids(images, series_geometry(labelled, tables.series), 32)
    units = training_units(spec_of(name), labelled, grid_index, tables.index, 32)
    ranks = units[[c for c in units if c.startswith("rank_")]].to_numpy()
    assert (ranks >= 0).sum() == len(labelled)  # every target is one point of one unit
    if name == "spinal":
        assert units["series_id"].is_unique  # one unit per series, a map per level
    elif name == "foraminal":
        assert units.groupby("series_id").size().max() <= 2  # one unit per side
        assert set(units["side"]) == {"left", "right"}
    else:
        both = units[(units["rank_0"] >= 0) & (units["rank_1"] >= 0)]
        assert len(both) > 0 and (both["gx_1"] > both["gx_0"]).all()  # map 1: larger column
