"""One reader for the cells of both fold kinds: a fold is ``(kind, k)``, ``kind`` ``study``
(partitions ``k0``, ``k1``, ...) or ``site`` (leaving out the ``k``-th site of the plan; ``s0``,
``s1``, ...), both graded by the folds pipeline, one cell per run (``--params=fold=k0``). A
cell's predictions carry the key of what they were graded from; a missing or stale cell is
refused by name, with the command that grades it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

KEY = "fold_key"  # the column of a predictions partition that names what it was graded from


PIPELINE = "folds"  # the Kedro pipeline (and DVC stage) that grades a cell
PARAMETER = "fold"  # the runtime parameter that names the cell a run grades (null: every one)


class FoldKind(NamedTuple):
    """How one kind of fold is named and sized."""

    title: str  # as a message names a fold of the kind
    prefix: str  # of its partitions
    sized_by: str  # the parameter that says how many folds there are


KINDS = {
    "study": FoldKind("study fold", "k", "split.n_folds"),
    "site": FoldKind("leave-site-out fold", "s", "leave_site_out.max_sites"),
}


def cell_name(kind: str, k: int) -> str:
    """The partition of fold ``(kind, k)`` (``k0`` for a study fold, ``s0`` for a site fold),
    as ``dvc.yaml`` spells it."""
    return f"{KINDS[kind].prefix}{int(k)}"


def refused(kind: str, k: int, name: str, why: str) -> ValueError:
    """The error for fold ``(kind, k)`` of condition ``name``, with the commands that grade it."""
    fold, cell = KINDS[kind], cell_name(kind, k)
    return ValueError(
        f"{name}: {fold.title} {k} {why}; grade it with `kedro run --pipelines={PIPELINE} "
        f"--namespaces={name} --params={PARAMETER}={cell}` or `dvc repro "
        f"{PIPELINE}@{name}-{cell}` (params.yaml's {PIPELINE} must list every fold of "
        f"{fold.sized_by})"
    )


def read_cell(
    parts: dict[str, Callable[[], Any]],
    kind: str,
    k: int,
    name: str,
    what: str,
    key: str | None = None,
    label: str = "",
) -> Any:
    """Fold ``(kind, k)``'s ``what`` partition of condition ``name``; where ``key`` is given (a
    predictions partition), its rows without the key column, checked to be graded from
    ``key`` (``label``: what the message adds after the fold's number, e.g. its site).

    Raises:
        ValueError: the partition is missing, or (with ``key``) was graded from other crops,
            folds, sites, settings or training code than this run's.
    """
    cell = cell_name(kind, k)
    if cell not in parts:
        raise refused(kind, k, name, f"{label}has no {what} partition ({cell})")
    table = parts[cell]()
    if key is None:
        return table
    if table.empty or set(table[KEY]) != {key}:
        raise refused(
            kind,
            k,
            name,
            f"{label}was graded from other crops, folds, sites, settings or training code than "
            "this run's (or before the split dealt it)",
        )
    return table.drop(columns=[KEY])


def cell_kind(cell: str) -> str:
    """The kind of fold partition ``cell`` holds (``k3``: study, ``s0``: site).

    Raises:
        ValueError: ``cell`` is not a cell name.
    """
    kinds = {f.prefix: kind for kind, f in KINDS.items()}
    if not isinstance(cell, str) or cell[:1] not in kinds or not cell[1:].isdigit():
        raise ValueError(
            f"{PARAMETER} must be null (every fold) or a cell such as k0 (study fold 0) or s0 "
            f"(leave-site-out fold 0), got {cell!r}"
        )
    return kinds[cell[0]]


def wanted_cells(value: Any, planned: list[str]) -> list[str]:
    """The cells one run grades: the one ``value`` names, or every planned cell where it is null
    (none planned: ``k0``, an empty partition, so that the folders exist).

    Raises:
        ValueError: ``value`` is neither null nor a cell name (``cell_kind``).
    """
    if value is None:
        return list(planned) or [cell_name("study", 0)]
    cell_kind(value)
    return [value]
