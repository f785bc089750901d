"""One reader for the cells of both fold kinds: a fold is ``(kind, k)``, ``kind`` ``study``
(``pipelines/folds``, partitions ``k0``, ``k1``, ...) or ``site`` (``pipelines/site_folds``,
leaving out the ``k``-th site of the plan; ``s0``, ``s1``, ...). A cell's predictions carry the
key of what they were graded from; a missing or stale cell is refused by name, with the command
that grades it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

KEY = "fold_key"  # the column of a predictions partition that names what it was graded from


class FoldKind(NamedTuple):
    """How one kind of fold is named, run and sized."""

    title: str  # as a message names a fold of the kind
    prefix: str  # of its partitions
    pipeline: str  # the Kedro pipeline (and DVC stage) that grades one
    parameter: str  # the runtime parameter that names the fold a run grades
    sized_by: str  # the parameter that says how many folds there are


KINDS = {
    "study": FoldKind("study fold", "k", "folds", "study_fold", "split.n_folds"),
    "site": FoldKind(
        "leave-site-out fold", "s", "site_folds", "site_fold", "leave_site_out.max_sites"
    ),
}


def cell_name(kind: str, k: int) -> str:
    """The partition of fold ``(kind, k)`` (``k0`` for a study fold, ``s0`` for a site fold),
    as ``dvc.yaml`` spells it."""
    return f"{KINDS[kind].prefix}{int(k)}"


def refused(kind: str, k: int, name: str, why: str) -> ValueError:
    """The error for fold ``(kind, k)`` of condition ``name``, with the commands that grade it."""
    fold = KINDS[kind]
    return ValueError(
        f"{name}: {fold.title} {k} {why}; grade it with `kedro run --pipelines={fold.pipeline} "
        f"--namespaces={name} --params={fold.parameter}={k}` or `dvc repro "
        f"{fold.pipeline}@{name}-{k}` (params.yaml's {fold.pipeline} must list every fold of "
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
