"""Resumable training state: atomic checkpoints, and the key that says what a checkpoint was made of.

A checkpoint is resumed only when its key equals the key of the run at hand. The key is a digest
of everything the result depends on: the training inputs (arrays and tables, hashed by content),
the weights handed in (a pretrained encoder), the parameters, and the code of the training
modules. Change any of them and the run starts afresh, saying which part differs.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from disc_grade.atomic import atomic_path

logger = logging.getLogger(__name__)

_MODELS_DIR = Path(__file__).resolve().parents[1]  # disc_grade/models, every room
_HASH_CHUNK = 1 << 24  # rows of a large array are hashed in slices of about this many bytes


def _hash_array(array: np.ndarray, digest) -> None:
    array = np.asarray(array)  # a memory-mapped array stays mapped: no copy
    digest.update(f"ndarray{array.shape}{array.dtype.str}".encode())
    if array.ndim == 0 or array.size == 0:
        digest.update(np.ascontiguousarray(array).tobytes())
        return
    rows = max(1, _HASH_CHUNK // max(array[0].nbytes, 1))
    for start in range(0, len(array), rows):
        digest.update(np.ascontiguousarray(array[start : start + rows]).tobytes())


def _hash_part(part: object, digest) -> None:
    import torch

    if isinstance(part, np.ndarray):
        _hash_array(part, digest)
    elif isinstance(part, torch.Tensor):
        _hash_array(part.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy(), digest)
        digest.update(f"tensor{tuple(part.shape)}{part.dtype}".encode())
    elif isinstance(part, pd.DataFrame):
        digest.update(
            json.dumps([list(map(str, part.columns)), list(map(str, part.dtypes))]).encode()
        )
        digest.update(pd.util.hash_pandas_object(part, index=True).to_numpy().tobytes())
    elif isinstance(part, Mapping) and any(
        isinstance(v, np.ndarray | torch.Tensor | pd.DataFrame) for v in part.values()
    ):
        for key in sorted(part):
            digest.update(str(key).encode())
            _hash_part(part[key], digest)
    else:
        digest.update(json.dumps(part, sort_keys=True, default=str).encode())


def fingerprint(part: object) -> str:
    """Content digest of an array, tensor, table, weight mapping or JSON-like value."""
    digest = hashlib.blake2b(digest_size=16)
    _hash_part(part, digest)
    return digest.hexdigest()


def code_version() -> str:
    """Digest of the training code (every module of ``disc_grade.models``)."""
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(_MODELS_DIR.rglob("*.py")):
        digest.update(path.relative_to(_MODELS_DIR).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def run_key(**parts: object) -> dict[str, str]:
    """The key of a training run: one fingerprint per named dependency, plus the code version."""
    return {name: fingerprint(value) for name, value in parts.items()} | {"code": code_version()}


def save_checkpoint(path: Path, payload: dict) -> None:
    """Write atomically: a crash leaves the previous checkpoint intact."""
    import torch

    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def load_matching(path: Path | None, key: dict[str, str], desc: str) -> dict | None:
    """The checkpoint at ``path`` if it was made by a run with the same ``key``; else None, saying why."""
    import torch

    if path is None or not Path(path).is_file():
        return None
    saved = torch.load(path, map_location="cpu", weights_only=True)
    saved_key = saved.get("run_key")
    if saved_key == key:
        return saved
    if not isinstance(saved_key, dict):
        logger.info("%s: checkpoint %s has no run key; starting afresh", desc, path)
        return None
    changed = sorted(k for k in key.keys() | saved_key.keys() if key.get(k) != saved_key.get(k))
    logger.info(
        "%s: checkpoint %s was made from other %s; starting afresh", desc, path, ", ".join(changed)
    )
    return None
