"""A condition's folds of both kinds run apart (one cell per fold, as DVC's folds stage runs
them) and are read back as if graded together; a missing or stale cell is refused by name."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from disc_grade.models.grading.adapt import MIN_CROPS
from disc_grade.models.training import checkpoint
from disc_grade.models.training.fold_plan import ADAPTED_OUT
from disc_grade.models.training.recipe import Recipe
from disc_grade.pipelines.folds.nodes import grade_fold_cells
from disc_grade.selection.cells import KEY
from disc_grade.selection.fold_cells import gather_cells, of_kind
from tests.models.training import test_site_folds, test_study_folds
from tests.models.training.every_fold import every_fold
from tests.models.training.test_site_folds import CONTRASTIVE
from tests.models.training.tiny import PARAMS, VARIANT

FROZEN = {**CONTRASTIVE, "name": "frozen", "freeze_encoder": True, "encoder_lr_scale": 0.0}
VARIANTS = {"contrastive": CONTRASTIVE, "scratch": VARIANT, "frozen": FROZEN}
ORDERED = [CONTRASTIVE, VARIANT, FROZEN]
TWO = {"max_sites": 2}
NONE = {"max_sites": 0}


def _lazy(parts: dict) -> dict:
    """Partitions as a partitioned dataset loads them: a loader per partition."""
    return {name: (lambda value=value: value) for name, value in parts.items()}


def _splits(index: pd.DataFrame, sites: pd.Series | None = None) -> pd.DataFrame:
    """The split table's study and site columns, as the condition reads them."""
    site = sites if sites is not None else pd.Series(None, index=index.index, dtype="string")
    return pd.DataFrame({"study_id": index["study_id"], "site": site}).drop_duplicates("study_id")


def _cells(rois, index, splits, cells, lso, params=PARAMS) -> tuple[dict, dict, dict]:
    """Each cell graded by a run of its own, its partitions merged as DVC's cells leave them."""
    merged: tuple[dict, dict, dict] = ({}, {}, {})
    for cell in cells:
        parts = grade_fold_cells(rois, index, splits, params, params, VARIANTS, lso, cell, "x")
        for whole, part in zip(merged, parts, strict=True):
            whole.update(part)
    return merged


def _gather(cells, rois, index, splits, lso, params=PARAMS):
    """The folds gathered, each kind read back out of the one table as its folds gave it
    (``of_kind``): the study folds' predictions, features and weights, then the site folds'
    predictions and features."""
    recipe = Recipe(params, params, VARIANTS)
    predictions, features, weights = gather_cells(
        *map(_lazy, cells), rois, index, splits, recipe, lso, "spinal"
    )
    for table in (predictions, features):
        assert {"fold_left_out", "fold_site"} <= set(table) and set(table["kind"]) <= {
            "study",
            "site",
        }
    kinds = [(of_kind(predictions, k), of_kind(features, k)) for k in ("study", "site")]
    return *kinds[0], weights, *kinds[1]


@pytest.fixture(scope="module")
def studies():
    rois, index = test_study_folds._cohort(n_folds=2)
    splits = _splits(index)
    return rois, index, splits, _cells(rois, index, splits, ["k0", "k1"], NONE)


@pytest.fixture(scope="module")
def sites():
    rois, index, sites = test_site_folds._cohort()
    splits = _splits(index, sites)
    return rois, index, sites, splits, _cells(rois, index, splits, ["s0", "s1"], TWO)


def test_study_folds_graded_apart_are_the_folds_graded_together(studies):
    rois, index, splits, cells = studies
    assert set(cells[0]) == {"k0", "k1"}
    table, features, graders, site_table, _ = _gather(cells, rois, index, splits, NONE)
    together, described, weights = every_fold(rois, index, None, PARAMS, PARAMS, ORDERED)["study"]
    pd.testing.assert_frame_equal(table, together)
    pd.testing.assert_frame_equal(features, described)
    assert site_table.empty and "fold_site" in site_table
    assert set(graders) == set(weights) == set(VARIANTS)
    for variant, folds in weights.items():
        assert set(graders[variant]) == set(folds) == {"0", "1"}
        for k, state in folds.items():
            assert all(torch.equal(state[n], graders[variant][k][n]) for n in state)


def test_site_folds_graded_apart_are_the_folds_graded_together(sites):
    rois, index, row_sites, splits, cells = sites
    assert set(cells[0]) == set(cells[1]) == {"s0", "s1"}
    study_table, _, graders, table, features = _gather(cells, rois, index, splits, TWO)
    assert study_table.empty and graders == {}
    together = every_fold(rois, index, row_sites, PARAMS, PARAMS, ORDERED, 2)["site"][0]
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


def test_a_missing_or_stale_study_fold_is_refused_by_name(studies, monkeypatch):
    rois, index, splits, cells = studies
    missing = [{k: v for k, v in c.items() if k != "k1"} for c in cells]
    with pytest.raises(
        ValueError, match=r"spinal: study fold 1 has no predictions.*fold=k1.*folds@spinal-k1"
    ):
        _gather(missing, rois, index, splits, NONE)
    changed = {**PARAMS, "lr": PARAMS["lr"] * 2}  # settings the folds were not graded with
    with pytest.raises(ValueError, match="spinal: study fold 0 was graded from other"):
        _gather(cells, rois, index, splits, NONE, params=changed)
    monkeypatch.setattr(checkpoint, "code_version", lambda: "other training code")
    with pytest.raises(ValueError, match="study fold 0 was graded from other"):
        _gather(cells, rois, index, splits, NONE)
    monkeypatch.undo()
    refolded = index.assign(fold=index["fold"].where(index["fold"] < 0, 1 - index["fold"]))
    with pytest.raises(ValueError, match="study fold 0 was graded from other"):
        _gather(cells, rois, refolded, splits, NONE)


def test_a_missing_or_stale_site_fold_is_refused_by_name(sites, monkeypatch):
    rois, index, _, splits, cells = sites
    missing = [{k: v for k, v in c.items() if k != "s1"} for c in cells]
    with pytest.raises(
        ValueError,
        match=r"spinal: leave-site-out fold 1 \(site 'B'\) has no predictions partition.*"
        r"fold=s1.*folds@spinal-s1",
    ):
        _gather(missing, rois, index, splits, TWO)
    changed = {**PARAMS, "lr": PARAMS["lr"] * 2}
    with pytest.raises(ValueError, match="fold 0 \\(site 'A'\\) was graded from other"):
        _gather(cells, rois, index, splits, TWO, params=changed)
    resited = splits.assign(site=splits["site"].replace({"B": "C", "C": "B"}))
    with pytest.raises(ValueError, match="fold 1 \\(site 'B'\\) was graded from other"):
        _gather(cells, rois, index, resited, TWO)
    monkeypatch.setattr(checkpoint, "code_version", lambda: "other training code")
    with pytest.raises(ValueError, match="fold 0 \\(site 'A'\\) was graded from other"):
        _gather(cells, rois, index, splits, TWO)


def test_a_cell_outside_the_plan_writes_empty_partitions_and_none_are_read(studies, sites):
    rois, index, splits, _ = studies
    tables, features, weights = _cells(rois, index, splits, ["k2"], NONE)
    assert list(tables) == ["k2"] and tables["k2"].empty and KEY in tables["k2"]
    assert features["k2"].empty and weights["k2"] == {}
    # no folds (the CPU demo): one empty partition, and the condition reads no fold
    no_folds = index.assign(fold=-1)
    none = grade_fold_cells(rois, no_folds, splits, PARAMS, PARAMS, VARIANTS, NONE, None, "x")
    assert [list(p) for p in none] == [["k0"]] * 3 and none[0]["k0"].empty
    gathered = _gather(none, rois, no_folds, splits, NONE)
    assert gathered[0].empty and gathered[2] == {} and gathered[3].empty
    for bad in (-1, 1, "1", "x1", True):
        with pytest.raises(ValueError, match="fold must be null"):
            grade_fold_cells(rois, index, splits, PARAMS, PARAMS, VARIANTS, NONE, bad, "x")
    # a site cell past the plan; fewer sites asked for than cells graded: the extra is ignored
    rois, index, _, splits, cells = sites
    past = _cells(rois, index, splits, ["s2"], TWO)
    assert list(past[0]) == ["s2"] and past[0]["s2"].empty and past[1]["s2"].empty
    one = _gather(cells, rois, index, splits, {"max_sites": 1})[3]
    assert set(one["fold_site"]) == {"A"}
