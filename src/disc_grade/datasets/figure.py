"""A matplotlib figure saved as PNG; loading returns the PNG bytes (for reports that embed it)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset, DatasetError

from disc_grade.atomic import write_bytes_atomic
from disc_grade.datasets.preview_types import ImagePreview


class PngFigureDataset(AbstractDataset[Any, bytes]):
    """Kedro dataset: ``save(figure)`` writes a PNG atomically, ``load()`` gives its bytes.

    Args:
        filepath: the PNG file.
        dpi: resolution of the saved image.
        metadata: free-form (kedro-viz layer, preview), ignored here.
    """

    def __init__(
        self, filepath: str, dpi: int = 110, metadata: dict[str, Any] | None = None
    ) -> None:
        self._filepath = Path(filepath)
        self._dpi = dpi
        self.metadata = metadata

    def load(self) -> bytes:
        if not self._filepath.is_file():
            raise DatasetError(
                f"figure '{self._filepath}' does not exist; run the pipeline that draws it"
            )
        return self._filepath.read_bytes()

    def save(self, data: Any) -> None:
        import matplotlib.pyplot as plt

        buffer = io.BytesIO()
        data.savefig(buffer, format="png", dpi=self._dpi, bbox_inches="tight")
        plt.close(data)
        write_bytes_atomic(self._filepath, buffer.getvalue())

    def preview(self) -> ImagePreview:
        """The PNG as base64, for kedro-viz."""
        import base64

        return ImagePreview(base64.b64encode(self.load()).decode("ascii"))

    def _exists(self) -> bool:
        return self._filepath.is_file()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "dpi": self._dpi}
