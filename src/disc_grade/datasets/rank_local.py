"""What a ``torchrun`` process other than rank 0 sees of a dataset: loads, but never writes.

Under DistributedDataParallel every process runs the same Kedro pipeline and computes the same
outputs; only rank 0 may write them. The others keep what they save in memory, so their later
nodes read their own results and no file is written twice (or half-written by a slower rank).
"""

from __future__ import annotations

import os
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.io import AbstractDataset

_NOTHING = object()


def distributed_rank() -> int:
    """This process's rank under ``torchrun`` (``RANK``), 0 otherwise."""
    return int(os.environ.get("RANK", 0))


class RankLocalDataset(AbstractDataset[Any, Any]):
    """Wraps a dataset: ``load`` reads it until this process saved, ``save`` stays in memory."""

    def __init__(self, dataset: AbstractDataset) -> None:
        self._dataset = dataset
        self._data: Any = _NOTHING
        self.metadata = getattr(dataset, "metadata", None)

    def load(self) -> Any:
        return self._dataset.load() if self._data is _NOTHING else self._data

    def save(self, data: Any) -> None:
        self._data = data

    def _exists(self) -> bool:
        return self._data is not _NOTHING or self._dataset.exists()

    def _describe(self) -> dict[str, Any]:
        return {"rank_local": True, "wraps": type(self._dataset).__name__}


class RankZeroWritesHook:
    """Kedro hook: on every rank but 0, each catalog dataset becomes a :class:`RankLocalDataset`."""

    @hook_impl
    def after_catalog_created(self, catalog, **kwargs) -> None:
        if distributed_rank() == 0:
            return
        for name in list(catalog.keys()):
            if name == "parameters" or name.startswith("params:"):
                continue
            catalog[name] = RankLocalDataset(catalog.get(name))
