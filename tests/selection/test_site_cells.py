"""A condition's leave-site-out folds run apart (one cell per fold, as DVC's site_folds stage
runs them) and are read back as if graded together; a missing or stale fold is refused by name."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from disc_grade.models.grading.adapt import MIN_CROPS
from disc_grade.models.training import checkpoint
from disc_grade.models.training.recipe import Recipe
from disc_grade.models.training.site_folds import ADAPTED_OUT, leave_site_out
from disc_grade.pipelines.site_folds.nodes import grade_site_cells
from disc_grade.selection.cells import KEY
from disc_grade.selection.site_cells import gather_site_cells
from tests.models.training.test_site_folds import CONTRASTIVE, _cohort
from tests.models.training.tiny import PARAMS, VARIANT
from tests.selection.test_study_cells import _lazy

VARIANTS = {"contrastive": CONTRASTIVE, "scratch": VARIANT, "frozen": {**VARIANT, "name": "frozen"}}
TWO = {"max_sites": 2}


def _splits(index: pd.DataFrame, sites: pd.Series) -> pd.DataFrame:
    """The split table's study and site columns, as the condition reads them."""
    return pd.DataFrame({"study_id": index["study_id"], "site": sites}).drop_duplicates()


def _cells(rois, index, splits, folds, params=PARAMS, lso=TWO) -> tuple[dict, dict]:
    """Each fold graded by a run of its own, its partitions merged as DVC's cells leave them."""
    merged: tuple[dict, dict] = ({}, {})
    for k in folds:
        parts = grade_site_cells(rois, index, splits, params, params, VARIANTS, lso, k, "x")
        for whole, part in zip(merged, parts, strict=True):
            whole.update(part)
    return merged


@pytest.fixture(scope="module")
def apart():
    rois, index, sites = _cohort()
    splits = _splits(index, sites)
    return rois, index, sites, splits, _cells(rois, index, splits, [0, 1])


def _gather(cells, rois, index, splits, params=PARAMS, lso=TWO):
    return gather_site_cells(
        *map(_lazy, cells), rois, index, splits, Recipe(params, params, VARIANTS), lso, "spinal"
    )


def test_site_folds_graded_apart_are_the_folds_graded_together(apart):
    rois, index, sites, splits, cells = apart
    assert set(cells[0]) == set(cells[1]) == {"s0", "s1"}
    table, features = _gather(cells, rois, index, splits)
    variants = [VARIANTS[v] for v in ("contrastive", "scratch", "frozen")]
    together = leave_site_out(rois, index, sites, PARAMS, PARAMS, variants, 2)
    pd.testing.assert_frame_equal(table, together)
    assert sorted(table["fold_site"].unique()) == ["A", "B"]  # the two largest training sites
    # features of each fold model's training, validation and left-out rows, per variant
    adapted_sites = set()
    for (site, variant), rows in features.groupby(["fold_site", "variant"]):
        graded = together[(together["fold_site"] == site) & (together["variant"] == variant)]
        assert set(graded["study_id"]) <= set(rows["study_id"]), (site, variant)
        assert set(rows["split"]) == {"train", "validation", "site_out", ADAPTED_OUT}
        # the left-out site once more after BatchNorm adapted to it: its rows only, moved
        plain = rows[rows["split"] == "site_out"].drop(columns="split")
        adapted = rows[rows["split"] == ADAPTED_OUT].drop(columns="split")
        keys = ["study_id", "condition", "level"]  # the same crops, in the same order
        assert plain[keys].reset_index(drop=True).equals(adapted[keys].reset_index(drop=True))
        values = [c for c in plain if c[0] == "f" and c[1:].isdigit()]
        same = np.allclose(plain[values].to_numpy(), adapted[values].to_numpy())
        assert values and same == (len(plain) < MIN_CROPS), (site, variant)  # too few: kept
        if not same:
            adapted_sites.add(site)
    assert adapted_sites, "some fold adapted its left-out site's features"
    assert set(features["variant"]) == set(VARIANTS)


def test_a_missing_or_stale_site_fold_is_refused_by_name(apart, monkeypatch):
    rois, index, _, splits, cells = apart
    missing = [{k: v for k, v in c.items() if k != "s1"} for c in cells]
    with pytest.raises(
        ValueError,
        match=r"spinal: leave-site-out fold 1 \(site 'B'\) has no predictions partition.*"
        r"site_fold=1.*site_folds@spinal-1",
    ):
        _gather(missing, rois, index, splits)
    changed = {**PARAMS, "lr": PARAMS["lr"] * 2}  # settings the folds were not graded with
    with pytest.raises(ValueError, match="fold 0 \\(site 'A'\\) was graded from other"):
        _gather(cells, rois, index, splits, params=changed)
    resited = splits.assign(site=splits["site"].replace({"B": "C", "C": "B"}))
    with pytest.raises(ValueError, match="fold 1 \\(site 'B'\\) was graded from other"):
        _gather(cells, rois, index, resited)
    monkeypatch.setattr(checkpoint, "code_version", lambda: "other training code")
    with pytest.raises(ValueError, match="fold 0 \\(site 'A'\\) was graded from other"):
        _gather(cells, rois, index, splits)


def test_a_cell_past_the_plan_writes_an_empty_partition_and_none_are_read(apart):
    rois, index, _, splits, cells = apart
    past, past_features = grade_site_cells(
        rois, index, splits, PARAMS, PARAMS, VARIANTS, TWO, 2, "x"
    )
    assert list(past) == list(past_features) == ["s2"] and past["s2"].empty and KEY in past["s2"]
    assert past_features["s2"].empty
    # max_sites 0 (the CPU demo): one empty partition, and the condition reads no fold
    off = {"max_sites": 0}
    none = grade_site_cells(rois, index, splits, PARAMS, PARAMS, VARIANTS, off, None, "x")
    assert [list(p) for p in none] == [["s0"]] * 2 and none[0]["s0"].empty
    assert all(t.empty for t in _gather(none, rois, index, splits, lso=off))
    # fewer sites asked for than cells graded: the extra partition is ignored
    one, _ = _gather(cells, rois, index, splits, lso={"max_sites": 1})
    assert set(one["fold_site"]) == {"A"}
    with pytest.raises(ValueError, match="site_fold must be null"):
        grade_site_cells(rois, index, splits, PARAMS, PARAMS, VARIANTS, TWO, -1, "x")
