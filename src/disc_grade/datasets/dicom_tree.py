"""A folder of DICOM files in the RSNA layout ``<study_id>/<series_id>/<instance>.dcm``.

Loading returns a light :class:`DicomTree` handle (a root path and a sorted file listing):
no file is opened, so the ingestion pipeline decides how to read. Saving takes an iterable of
``(relative path, bytes)`` and writes each file atomically as it arrives (streaming, flat
memory). A tree that the phantom did not write is never overwritten.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset, DatasetError
from tqdm.auto import tqdm

from disc_grade.atomic import write_bytes_atomic
from disc_grade.provenance import NotOurs, claim_for_phantom


@dataclass(frozen=True)
class DicomTree:
    """Root folder of an image tree and the files under it, relative and sorted."""

    root: Path

    def files(self) -> list[str]:
        """Every regular file below the root (any name: non-DICOM files get reported, not skipped)."""
        out = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames.sort()
            for name in sorted(filenames):
                if name.startswith("."):
                    continue
                out.append(os.path.relpath(os.path.join(dirpath, name), self.root))
        return out


class DicomTreeDataset(AbstractDataset[Iterable[tuple[str, bytes]], DicomTree]):
    """Kedro dataset for a DICOM image tree.

    Args:
        path: the tree's root, e.g. ``data/01_raw/phantom/train_images``.
        missing_hint: what the error for a missing folder tells the user to do.
        metadata: free-form metadata (kedro-viz layer), ignored here.
    """

    def __init__(
        self, path: str, missing_hint: str | None = None, metadata: dict[str, Any] | None = None
    ) -> None:
        self._path = Path(path)
        self._missing_hint = missing_hint or (
            "Make the phantom cohort with `make run` (or `kedro run --pipelines=phantom`), or "
            "point the project at the RSNA download with `--params=raw_root=/path/to/rsna` "
            "(the folder holding train.csv and train_images/)."
        )
        self.metadata = metadata

    def load(self) -> DicomTree:
        if not self._path.is_dir():
            raise DatasetError(
                f"DICOM image folder '{self._path}' does not exist. {self._missing_hint}"
            )
        return DicomTree(self._path)

    def save(self, data: Iterable[tuple[str, bytes]]) -> None:
        try:  # only a folder the phantom wrote (or an empty one) is ever replaced
            claim_for_phantom(self._path)
        except NotOurs as exc:
            raise DatasetError(str(exc)) from exc
        shutil.rmtree(self._path)
        claim_for_phantom(self._path)
        for relative, payload in tqdm(data, desc="writing DICOM", unit="file", disable=None):
            write_bytes_atomic(self._path / relative, payload)

    def _exists(self) -> bool:
        return self._path.is_dir() and any(self._path.iterdir())

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._path)}
