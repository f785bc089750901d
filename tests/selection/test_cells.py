"""One cell reader for both fold kinds: a study fold and a site fold are read, and refused when
missing or stale, by the same function, each named with the command that grades it."""

from __future__ import annotations

import pandas as pd
import pytest

from disc_grade.models.training.recipe import Recipe
from disc_grade.selection import cells, site_cells, study_cells
from disc_grade.selection.cells import KEY, cell_name, read_cell

RECIPE = Recipe({}, {}, {})


def _parts(kind: str, k: int, key: str) -> dict:
    table = pd.DataFrame({"study_id": [1, 2], KEY: [key, key]})
    return {cell_name(kind, k): lambda: table}


@pytest.mark.parametrize(
    ("kind", "cell", "command"),
    [
        ("study", "k3", "--pipelines=folds --namespaces=spinal --params=study_fold=3"),
        ("site", "s3", "--pipelines=site_folds --namespaces=spinal --params=site_fold=3"),
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


def test_the_study_and_site_readers_go_through_read_cell(monkeypatch):
    """Both gatherers call the one reader (a reader of their own would pass this by)."""
    seen = []

    def spy(parts, kind, k, name, what, key=None, label=""):
        seen.append((kind, what))
        raise LookupError("read")

    monkeypatch.setattr(study_cells, "read_cell", spy)
    monkeypatch.setattr(site_cells, "read_cell", spy)
    index = pd.DataFrame({"study_id": [1, 2, 3, 4], "fold": [0, 1, 0, 1]})
    monkeypatch.setattr(study_cells, "fold_numbers", lambda roi_index: [0, 1])
    monkeypatch.setattr(study_cells, "cells_key", lambda *a: "key")
    with pytest.raises(LookupError):
        study_cells.gather_fold_cells({}, {}, {}, None, index, RECIPE, "spinal")
    monkeypatch.setattr(site_cells, "planned_sites", lambda *a: ["A"])
    monkeypatch.setattr(site_cells, "row_sites", lambda *a: pd.Series(["A"] * 4))
    monkeypatch.setattr(site_cells, "site_fold_index", lambda *a: [0])
    monkeypatch.setattr(site_cells, "cells_key", lambda *a: "key")
    with pytest.raises(LookupError):
        site_cells.gather_site_cells({}, {}, None, index, None, RECIPE, {}, "spinal")
    assert seen == [("study", "predictions"), ("site", "predictions")]
    assert cells.KINDS["study"].prefix == "k" and cells.KINDS["site"].prefix == "s"
