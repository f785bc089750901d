"""A condition's folds of both kinds as cells: ``grade_cells`` (the folds pipeline's node) writes
fold ``(kind, k)`` as partition ``cell_name(kind, k)`` (``k0``, ``k1``, ... for study folds,
``s0``, ... for site folds) of three partitioned datasets (the fold models' predictions,
features and weights); the condition reads every fold of its plan back through the one cell
reader (``selection.cells.read_cell``), which refuses a missing or stale cell by name. A cell's
key (``cell_key``) names the crops, their index, the recipe, the training code and which rows
the fold leaves out; writer and reader compute it here, so that the two cannot compute it apart.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from disc_grade.models.grading.predict import empty_predictions
from disc_grade.models.training.checkpoint import fingerprint
from disc_grade.models.training.fold_plan import RULES, Fold, fold_index, fold_plan, left_out_rows
from disc_grade.models.training.folds import fold_key, joined, train_fold
from disc_grade.models.training.recipe import Recipe
from disc_grade.selection.cells import KEY, cell_kind, cell_name, read_cell, wanted_cells

logger = logging.getLogger(__name__)

Parts = dict[str, Callable[[], Any]]  # a partitioned dataset as Kedro loads it
DTYPES = {"study": "int64", "site": str}  # of each kind's fold column


def no_folds(kind: str) -> pd.DataFrame:
    """A kind's fold predictions without a fold (``of_kind`` of ``fold_predictions``)."""
    return empty_predictions().assign(
        adapted=pd.Series(dtype=bool), **{RULES[kind].column: pd.Series(dtype=DTYPES[kind])}
    )


def no_features(kind: str) -> pd.DataFrame:
    """A kind's fold features without a fold: its keys, no feature."""
    keys = empty_predictions()[["study_id", "condition", "level", "split", "label"]]
    column = {RULES[kind].column: pd.Series(dtype=DTYPES[kind])}
    return keys.assign(variant=pd.Series(dtype=str), **column)


def no_study_folds() -> pd.DataFrame:
    """A study fold's predictions without a fold."""
    return no_folds("study")


def fold_rows(study: pd.DataFrame, site: pd.DataFrame) -> pd.DataFrame:
    """Both kinds' fold rows (predictions or features) as one table, each row with its
    ``kind``: what a condition's choices read (``of_kind``)."""
    return pd.concat([study.assign(kind="study"), site.assign(kind="site")], ignore_index=True)


def no_fold_rows(empty: Callable[[str], pd.DataFrame] = no_folds) -> pd.DataFrame:
    """``fold_rows`` without a fold of either kind (``no_folds`` or ``no_features``)."""
    return fold_rows(empty("study"), empty("site"))


def of_kind(table: pd.DataFrame, kind: str) -> pd.DataFrame:
    """The rows of ``kind`` of a ``fold_rows`` table, as that kind's folds give them: its fold
    column (``RULES[kind].column``) and no other kind's."""
    others = [rule.column for k, rule in RULES.items() if k != kind]
    rows = table[table["kind"] == kind].drop(columns=["kind", *others])
    return rows.astype({RULES[kind].column: DTYPES[kind]}).reset_index(drop=True)


def row_sites(roi_index: pd.DataFrame, study_splits: pd.DataFrame) -> pd.Series:
    """Each crop's site, its study's (``study_splits``); none without crops (a skipped
    condition)."""
    if roi_index.empty:
        return pd.Series(dtype="string")
    site_of = study_splits.drop_duplicates("study_id").set_index("study_id")["site"]
    return roi_index["study_id"].map(site_of)


def max_sites(leave_site_out: dict[str, Any]) -> int | None:
    """``leave_site_out.max_sites`` (0, the default: no site fold; null: every training site)."""
    value = leave_site_out.get("max_sites", 0)
    return None if value is None else int(value)


def cells_key(disc_rois: np.ndarray, roi_index: pd.DataFrame, recipe: Recipe) -> str:
    """What every fold of these crops depends on (``fold_key``): one function for the writer and
    the reader, so that the two cannot compute it apart."""
    rois = np.asarray(disc_rois)
    return fold_key(rois, roi_index, recipe.pretraining, recipe.finetuning, recipe.ordered)


def cell_key(base: str, roi_index: pd.DataFrame, sites: pd.Series | None, fold: Fold) -> str:
    """The key fold ``fold``'s cell is written with and checked against: ``base``
    (``cells_key``), the fold and which crops it leaves out (a site fold's change when the
    studies' sites do)."""
    rows = left_out_rows(roi_index, sites, fold).tolist()
    return fingerprint({"folds": base, "fold": list(fold), "rows": rows})


def grade_cells(
    disc_rois: np.ndarray,
    roi_index: pd.DataFrame,
    sites: pd.Series,
    recipe: Recipe,
    leave_site_out: dict[str, Any],
    fold: str | None,
    name: str,
) -> tuple[dict, dict, dict]:
    """Cell ``fold`` of condition ``name`` (``folds.train_fold``: every variant trained without
    the fold's studies, then graded on them): its predictions (with the cell's key), features
    and weights; every cell of the plan in turn where ``fold`` is null. A cell outside the plan
    (``split.n_folds`` or ``leave_site_out.max_sites`` 0, the CPU demo's defaults, or at most
    its number) writes empty partitions, so that every cell ``dvc.yaml`` lists has its outs.

    Raises:
        ValueError: ``fold`` is neither null nor a cell name.
    """
    rois = np.asarray(disc_rois)
    folds = fold_plan(roi_index, sites, max_sites(leave_site_out))
    plan = {cell_name(f.kind, f.k): f for f in folds}
    base = cells_key(rois, roi_index, recipe) if plan else ""
    tables, features, weights = {}, {}, {}
    for cell in wanted_cells(fold, list(plan)):
        kind = cell_kind(cell)
        tables[cell] = no_folds(kind).assign(**{KEY: pd.Series(dtype=str)})
        features[cell], weights[cell] = no_features(kind), {}
        if cell not in plan:
            logger.info("%s: fold cell %s: no such fold (cells %s)", name, cell, list(plan))
            continue
        logger.info(
            "%s: fold cell %s (%d of %d)", name, cell, folds.index(plan[cell]) + 1, len(plan)
        )
        graded = train_fold(
            rois,
            roi_index,
            sites,
            plan[cell],
            recipe.pretraining,
            recipe.finetuning,
            recipe.ordered,
        )
        if len(graded[0]):
            key = cell_key(base, roi_index, sites, plan[cell])
            tables[cell], features[cell], weights[cell] = (
                graded[0].assign(**{KEY: key}),
                *graded[1:],
            )
    return tables, features, weights


def gather_cells(
    cells: Parts,
    feature_cells: Parts,
    weight_cells: Parts,
    disc_rois: np.ndarray,
    roi_index: pd.DataFrame,
    study_splits: pd.DataFrame,
    recipe: Recipe,
    leave_site_out: dict[str, Any],
    name: str,
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Condition ``name``'s folds read back from their cells: the predictions and the features
    of both kinds, one table each (``fold_rows``: a ``kind`` column), and the study folds'
    weights by variant and fold; a kind without folds has no rows. A site fold the other sites
    cannot train is not read; cells outside the plan are ignored.

    Raises:
        ValueError: a fold's cell is missing, or was graded from other crops, folds, sites,
            settings or training code than these (its key differs): named, with the command
            that grades it.
    """
    sites = row_sites(roi_index, study_splits)
    plan = fold_plan(roi_index, sites, max_sites(leave_site_out))
    base = cells_key(disc_rois, roi_index, recipe) if plan else ""
    graded: dict[str, list] = {"study": [], "site": []}
    for fold in plan:
        if fold.kind == "site" and fold_index(roi_index, sites, fold) is None:
            continue
        label = f"(site '{fold.group}') " if fold.kind == "site" else ""
        key = cell_key(base, roi_index, sites, fold)
        table = read_cell(cells, fold.kind, fold.k, name, "predictions", key, label)
        features = read_cell(feature_cells, fold.kind, fold.k, name, "features", label=label)
        weights = read_cell(weight_cells, fold.kind, fold.k, name, "weights", label=label)
        graded[fold.kind].append((fold, (table, features, weights)))
    study, site = (joined(graded[kind]) for kind in ("study", "site"))
    if study[0].empty:
        study = no_folds("study"), no_features("study"), {}
    if site[0].empty:
        site = no_folds("site"), no_features("site"), {}
    return fold_rows(study[0], site[0]), fold_rows(study[1], site[1]), study[2]
