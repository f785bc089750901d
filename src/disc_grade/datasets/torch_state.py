"""A torch ``state_dict`` (a mapping of tensors) saved atomically, loaded with ``weights_only=True``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from kedro.io import AbstractDataset, DatasetError


class TorchStateDataset(AbstractDataset[dict, dict]):
    """Kedro dataset for model weights (``state_dict``) or any tensor mapping.

    Args:
        filepath: the ``.pt`` file.
        metadata: free-form (kedro-viz layer), ignored here.
    """

    def __init__(self, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        self._filepath = Path(filepath)
        self.metadata = metadata

    def load(self) -> dict:
        if not self._filepath.is_file():
            raise DatasetError(
                f"model file '{self._filepath}' does not exist; run the pipeline that trains it"
            )
        return torch.load(self._filepath, map_location="cpu", weights_only=True)

    def save(self, data: dict) -> None:
        self._filepath.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._filepath.with_name(self._filepath.name + ".part")
        torch.save(data, tmp)
        os.replace(tmp, self._filepath)

    def _exists(self) -> bool:
        return self._filepath.is_file()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}
