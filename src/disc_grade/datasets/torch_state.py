"""A torch ``state_dict`` (a mapping of tensors) saved atomically, loaded with ``weights_only=True``.

torch is imported when a model is loaded or saved, not when the catalog is built, so a run of a
pipeline without models (ingestion, alignment) never pays for importing it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset, DatasetError

from disc_grade.atomic import atomic_path


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
        import torch

        if not self._filepath.is_file():
            raise DatasetError(
                f"model file '{self._filepath}' does not exist; run the pipeline that trains it"
            )
        return torch.load(self._filepath, map_location="cpu", weights_only=True)

    def save(self, data: dict) -> None:
        import torch

        with atomic_path(self._filepath) as tmp:
            torch.save(data, tmp)

    def _exists(self) -> bool:
        return self._filepath.is_file()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}
