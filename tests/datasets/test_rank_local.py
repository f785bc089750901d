"""Under torchrun only rank 0 writes outputs; the other ranks read their own results in memory."""

from __future__ import annotations

import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro_datasets.pandas import CSVDataset

from disc_grade.datasets.rank_local import RankZeroWritesHook


def _catalog(tmp_path) -> DataCatalog:
    (tmp_path / "in.csv").write_text("a\n1\n")
    return DataCatalog(
        datasets={
            "source": CSVDataset(filepath=str(tmp_path / "in.csv")),
            "result": CSVDataset(filepath=str(tmp_path / "out.csv"), save_args={"index": False}),
            "params:x": MemoryDataset(3),
        }
    )


@pytest.mark.parametrize("rank, written", [("0", True), ("1", False), ("3", False)])
def test_only_rank_zero_writes(tmp_path, monkeypatch, rank, written):
    monkeypatch.setenv("RANK", rank)
    catalog = _catalog(tmp_path)
    RankZeroWritesHook().after_catalog_created(catalog=catalog)
    assert catalog.load("source")["a"].tolist() == [1]  # inputs still come from disk
    catalog.save("result", pd.DataFrame({"b": [2]}))
    assert (tmp_path / "out.csv").exists() == written
    assert catalog.load("result")["b"].tolist() == [2]  # a later node reads what this rank made
    assert catalog.load("params:x") == 3


def test_the_hook_is_registered_in_settings():
    from disc_grade import settings

    assert any(isinstance(h, RankZeroWritesHook) for h in settings.HOOKS)
