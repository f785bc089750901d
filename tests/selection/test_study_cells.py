"""A condition's study folds run apart (one cell per fold, as DVC's folds stage runs them) and
are read back as if graded together; a missing or stale fold is refused by name."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from disc_grade.models.training import checkpoint
from disc_grade.models.training.recipe import Recipe
from disc_grade.models.training.study_folds import out_of_fold
from disc_grade.pipelines.folds.nodes import grade_fold_cells
from disc_grade.selection.cells import KEY, cell_name
from disc_grade.selection.study_cells import gather_fold_cells
from tests.models.training.test_site_folds import CONTRASTIVE
from tests.models.training.test_study_folds import _cohort
from tests.models.training.tiny import PARAMS, VARIANT

FROZEN = {**CONTRASTIVE, "name": "frozen", "freeze_encoder": True, "encoder_lr_scale": 0.0}
VARIANTS = {"contrastive": CONTRASTIVE, "scratch": VARIANT, "frozen": FROZEN}


def _lazy(parts: dict) -> dict:
    """Partitions as a partitioned dataset loads them: a loader per partition."""
    return {name: (lambda value=value: value) for name, value in parts.items()}


def _cells(rois, index, folds, params=PARAMS) -> tuple[dict, dict, dict]:
    """Each fold graded by a run of its own, its partitions merged as DVC's cells leave them."""
    merged: tuple[dict, dict, dict] = ({}, {}, {})
    for k in folds:
        parts = grade_fold_cells(rois, index, params, params, VARIANTS, k, "spinal")
        for whole, part in zip(merged, parts, strict=True):
            whole.update(part)
    return merged


@pytest.fixture(scope="module")
def apart():
    rois, index = _cohort(n_folds=2)
    return rois, index, _cells(rois, index, [0, 1])


def test_folds_graded_apart_are_the_folds_graded_together(apart):
    rois, index, cells = apart
    assert set(cells[0]) == {"k0", "k1"}
    table, features, graders = gather_fold_cells(
        *map(_lazy, cells), rois, index, Recipe(PARAMS, PARAMS, VARIANTS), "spinal"
    )
    together, described, weights = out_of_fold(
        rois, index, PARAMS, PARAMS, [CONTRASTIVE, VARIANT, FROZEN]
    )
    pd.testing.assert_frame_equal(table, together)
    pd.testing.assert_frame_equal(features, described)
    assert set(graders) == set(weights) == set(VARIANTS)
    for variant, folds in weights.items():
        assert set(graders[variant]) == set(folds) == {"0", "1"}
        for k, state in folds.items():
            assert all(torch.equal(state[n], graders[variant][k][n]) for n in state)


def test_a_missing_or_stale_fold_is_refused_by_name(apart, monkeypatch):
    rois, index, cells = apart
    missing = [{k: v for k, v in c.items() if k != "k1"} for c in cells]
    with pytest.raises(
        ValueError, match=r"spinal: study fold 1 has no predictions.*study_fold=1.*folds@spinal-1"
    ):
        gather_fold_cells(
            *map(_lazy, missing), rois, index, Recipe(PARAMS, PARAMS, VARIANTS), "spinal"
        )
    changed = {**PARAMS, "lr": PARAMS["lr"] * 2}  # settings the folds were not graded with
    with pytest.raises(ValueError, match="spinal: study fold 0 was graded from other"):
        gather_fold_cells(
            *map(_lazy, cells), rois, index, Recipe(changed, PARAMS, VARIANTS), "spinal"
        )
    monkeypatch.setattr(checkpoint, "code_version", lambda: "other training code")
    with pytest.raises(ValueError, match="study fold 0 was graded from other"):
        gather_fold_cells(
            *map(_lazy, cells), rois, index, Recipe(PARAMS, PARAMS, VARIANTS), "spinal"
        )
    monkeypatch.undo()
    refolded = index.assign(fold=index["fold"].where(index["fold"] < 0, 1 - index["fold"]))
    with pytest.raises(ValueError, match="study fold 0 was graded from other"):
        gather_fold_cells(
            *map(_lazy, cells), rois, refolded, Recipe(PARAMS, PARAMS, VARIANTS), "spinal"
        )


def test_a_cell_past_the_splits_folds_writes_empty_partitions_and_none_are_read():
    rois, index = _cohort(n_folds=2)
    tables, features, weights = grade_fold_cells(rois, index, PARAMS, PARAMS, VARIANTS, 2, "spinal")
    assert list(tables) == [cell_name("study", 2)] and tables["k2"].empty and KEY in tables["k2"]
    assert features["k2"].empty and weights["k2"] == {}
    # no folds (the CPU demo): one empty partition, and the condition reads no fold
    none = grade_fold_cells(rois, index.assign(fold=-1), PARAMS, PARAMS, VARIANTS, None, "spinal")
    assert [list(p) for p in none] == [["k0"]] * 3 and none[0]["k0"].empty
    table, _, graders = gather_fold_cells(
        *map(_lazy, none), rois, index.assign(fold=-1), Recipe(PARAMS, PARAMS, VARIANTS), "spinal"
    )
    assert table.empty and graders == {}
    for bad in (-1, "1", True):
        with pytest.raises(ValueError, match="study_fold must be null"):
            grade_fold_cells(rois, index, PARAMS, PARAMS, VARIANTS, bad, "spinal")
