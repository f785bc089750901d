"""A model bundle folder as a Kedro dataset: ``metadata.json``, ``model.pt``,
``label_priors.csv`` and the model card ``README.md`` (``disc_grade.shipping``)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset, DatasetError

from disc_grade.shipping.card import model_card
from disc_grade.shipping.contents import BundleError, check

METADATA, MODELS, PRIORS, CARD = "metadata.json", "model.pt", "label_priors.csv", "README.md"


def load_bundle(path: str | Path) -> dict:
    """The bundle in ``path`` as ``{"metadata", "models", "label_priors"}``.

    Raises:
        BundleError: ``path`` is not a bundle (names what is missing and how to make one), or
            one of another format.
    """
    import pandas as pd
    import torch

    path = Path(path)
    missing = [n for n in (METADATA, MODELS, PRIORS) if not (path / n).is_file()]
    if missing:
        raise BundleError(
            f"no model bundle at {path} ({', '.join(missing)} missing): train first with "
            "`make run` (it leaves one in data/06_models/bundle), or pass --models with a "
            "folder `disc-grade export` wrote"
        )
    meta = json.loads((path / METADATA).read_text())
    check(meta, str(path))
    return {
        "metadata": meta,
        "models": torch.load(path / MODELS, map_location="cpu", weights_only=True),
        "label_priors": pd.read_csv(path / PRIORS),
    }


def save_bundle(bundle: dict, path: str | Path) -> None:
    """Write ``bundle`` to ``path`` whole: a reader sees the old bundle or the new one."""
    import torch

    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    (tmp / METADATA).write_text(json.dumps(bundle["metadata"], indent=2, allow_nan=False))
    torch.save(bundle["models"], tmp / MODELS)
    bundle["label_priors"].to_csv(tmp / PRIORS, index=False)
    (tmp / CARD).write_text(model_card(bundle["metadata"]))
    shutil.rmtree(path, ignore_errors=True)
    tmp.rename(path)


class ModelBundleDataset(AbstractDataset[dict, dict]):
    """Kedro dataset for a model bundle folder.

    Args:
        path: the bundle's folder, e.g. ``data/06_models/bundle``.
        metadata: free-form (kedro-viz layer), ignored here.
    """

    def __init__(self, path: str, metadata: dict[str, Any] | None = None) -> None:
        self._path = Path(path)
        self.metadata = metadata

    def load(self) -> dict:
        try:
            return load_bundle(self._path)
        except BundleError as exc:
            raise DatasetError(str(exc)) from exc

    def save(self, data: dict) -> None:
        save_bundle(data, self._path)

    def _exists(self) -> bool:
        return (self._path / METADATA).is_file()

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._path)}
