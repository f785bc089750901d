"""Where a catalog dataset's file lies, for the lineage: DVC's deps and outs come from here."""

from __future__ import annotations

from pathlib import Path

import yaml


class UnplacedDataset(ValueError):
    """A catalog dataset whose file the lineage cannot place."""


def filepath(catalog, name: str, project: Path | None = None) -> str | None:
    """The project-relative file of a persisted dataset; None for a parameter or an in-memory
    dataset (one the catalog does not define).

    Raises:
        UnplacedDataset: the catalog defines ``name`` but it cannot be described.
    """
    if name.startswith("params:") or name == "parameters" or name not in catalog:
        return None
    try:
        described = catalog.get(name)._describe()
    except Exception as exc:  # noqa: BLE001 - re-raised with the dataset's name
        raise UnplacedDataset(f"lineage: cannot place dataset '{name}': {exc}") from exc
    path = described.get("filepath") or described.get("path")
    if not path:
        return None
    path = Path(str(path))
    if project is not None and path.is_absolute() and path.is_relative_to(project):
        path = path.relative_to(project)
    return path.as_posix()


def partition_suffix(catalog, name: str) -> str:
    """The file suffix of a partitioned dataset's partitions (``.parquet``); empty otherwise."""
    return str(getattr(catalog.get(name), "_filename_suffix", "")) if name in catalog else ""


def optional(catalog, name: str) -> bool:
    """A sidecar only some data has (``metadata.optional``): no DVC dep, or repro would stop."""
    return name in catalog and bool((catalog.get(name).metadata or {}).get("optional"))


def param_files(conf: Path) -> dict[str, str]:
    owner = {}
    for file in sorted(conf.glob("parameters*.yml")):
        for key in yaml.safe_load(file.read_text()) or {}:
            owner[key] = str(file)
    return owner
