"""A NumPy array stored as one ``.npy`` file, written atomically, optionally memory-mapped on load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from kedro.io import AbstractDataset, DatasetError

from disc_grade.atomic import atomic_path
from disc_grade.datasets.preview_types import JSONPreview


class NpyDataset(AbstractDataset[np.ndarray, np.ndarray]):
    """Kedro dataset for one array in NumPy's ``.npy`` format.

    Args:
        filepath: where the array lives.
        mmap: load memory-mapped read-only instead of reading the whole file.
        metadata: free-form (kedro-viz layer), ignored here.
    """

    def __init__(
        self, filepath: str, mmap: bool = False, metadata: dict[str, Any] | None = None
    ) -> None:
        self._filepath = Path(filepath)
        self._mmap = mmap
        self.metadata = metadata

    def load(self) -> np.ndarray:
        if not self._filepath.is_file():
            raise DatasetError(
                f"array file '{self._filepath}' does not exist; run the pipeline that writes it"
            )
        return np.load(self._filepath, mmap_mode="r" if self._mmap else None, allow_pickle=False)

    def save(self, data: np.ndarray) -> None:
        with atomic_path(self._filepath) as tmp, open(tmp, "wb") as fh:
            np.save(fh, np.asarray(data), allow_pickle=False)

    def preview(self) -> JSONPreview:
        """Shape, dtype and value range, for kedro-viz (memory-mapped: nothing big is read)."""
        import json

        array = np.load(self._filepath, mmap_mode="r", allow_pickle=False)
        sample = (
            np.asarray(array[: min(len(array), 64)], dtype=np.float32)
            if array.ndim
            else np.asarray(array)
        )
        return JSONPreview(
            json.dumps(
                {
                    "shape": list(array.shape),
                    "dtype": str(array.dtype),
                    "first_rows_min": float(sample.min()) if sample.size else None,
                    "first_rows_max": float(sample.max()) if sample.size else None,
                }
            )
        )

    def _exists(self) -> bool:
        return self._filepath.is_file()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "mmap": self._mmap}
