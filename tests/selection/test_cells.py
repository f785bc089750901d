"""One cell reader for both fold kinds: a study fold and a site fold are read, and refused when
missing or stale, by the same function, each named with the command that grades it."""

from __future__ import annotations

import pandas as pd
import pytest

from disc_grade.models.training.recipe import Recipe
from disc_grade.selection import cells, fold_cells
from disc_grade.selection.cells import KEY, cell_name, read_cell

RECIPE = Recipe({}, {}, {})


def _parts(kind: str, k: int, key: str) -> dict:
    table = pd.DataFrame({"study_id": [1, 2], KEY: [key, key]})
    return {cell_name(kind, k): lambda: table}


@pytest.mark.parametrize(
    ("kind", "cell", "command"),
    [
        ("study", "k3", "--pipelines=folds --namespaces=spinal --params=fold=k3"),
        ("site", "s3", "--pipelines=folds --namespaces=spinal --params=fold=s3"),
    ],
)
def test_both_kinds_are_read_and_refused_by_the_one_reader(kind, cell, command):
    parts = _parts(kind, 3, "abc")
    assert list(parts) == [cell]
    read = read_cell(parts, kind, 3, "spinal", "predictions", "abc")
    assert list(read.columns) == ["study_id"] and len(read) == 2
    with pytest.raises(ValueError, match=f"has no predictions partition \\({cell}\\).*{command}"):
        read_cell({}, kind, 3, "spinal", "predictions", "abc")
    with pytest.raises(ValueError, match=f"was graded from other.*{command}"):
        read_cell(parts, kind, 3, "spinal", "predictions", "another key")


def test_both_kinds_are_gathered_through_read_cell(monkeypatch):
    """The one gatherer reads a study fold and a site fold through the one reader (a reader of
    its own would pass this by)."""
    seen = []

    def spy(parts, kind, k, name, what, key=None, label=""):
        seen.append((kind, k, what))
        return {"predictions": pd.DataFrame({"study_id": [1]}), "weights": {}}.get(
            what, pd.DataFrame()
        )

    monkeypatch.setattr(fold_cells, "read_cell", spy)
    index = pd.DataFrame({"study_id": [1, 2, 3, 4], "fold": [0, 1, 0, 1], "split": ["train"] * 4})
    splits = pd.DataFrame({"study_id": [1, 2, 3, 4], "site": ["A", "B", "A", "B"]})
    monkeypatch.setattr(fold_cells, "cells_key", lambda *a: "key")
    monkeypatch.setattr(fold_cells, "fold_index", lambda *a: (None, None))
    fold_cells.gather_cells({}, {}, {}, None, index, splits, RECIPE, {"max_sites": 1}, "spinal")
    assert [s for s in seen if s[2] == "predictions"] == [
        ("study", 0, "predictions"),
        ("study", 1, "predictions"),
        ("site", 0, "predictions"),
    ]
    assert cells.KINDS["study"].prefix == "k" and cells.KINDS["site"].prefix == "s"


def test_a_fold_value_is_a_cell_name():
    assert cells.wanted_cells("s2", ["k0"]) == ["s2"]
    assert cells.wanted_cells(None, ["k0", "k1", "s0"]) == ["k0", "k1", "s0"]
    assert cells.wanted_cells(None, []) == ["k0"]
    for bad in (2, "2", "k", "z0", True, "k-1"):
        with pytest.raises(ValueError, match="fold must be null"):
            cells.wanted_cells(bad, ["k0"])
