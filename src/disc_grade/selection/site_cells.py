"""A condition's leave-site-out folds read back from the partitions the site_folds pipeline
writes (``pipelines/site_folds``): ``s<fold>`` of two partitioned datasets (the fold models'
predictions and features), fold ``k`` leaving out the ``k``-th site of ``site_folds.site_plan``,
each through the one cell reader (``selection.cells.read_cell``), which refuses a missing or
stale fold by name. The key of a fold's cells is ``site_cell_key``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from disc_grade.models.grading.predict import empty_predictions
from disc_grade.models.training.checkpoint import fingerprint
from disc_grade.models.training.recipe import Recipe
from disc_grade.models.training.site_folds import site_fold_index, site_plan
from disc_grade.selection.cells import KEY, read_cell
from disc_grade.selection.study_cells import cells_key, no_fold_features


def row_sites(roi_index: pd.DataFrame, study_splits: pd.DataFrame) -> pd.Series:
    """Each crop's site, its study's (``study_splits``)."""
    site_of = study_splits.drop_duplicates("study_id").set_index("study_id")["site"]
    return roi_index["study_id"].map(site_of)


def max_sites(leave_site_out: dict[str, Any]) -> int | None:
    """``leave_site_out.max_sites`` (0, the default: no fold; null: every training site)."""
    value = leave_site_out.get("max_sites", 0)
    return None if value is None else int(value)


def planned_sites(
    roi_index: pd.DataFrame, study_splits: pd.DataFrame, leave_site_out: dict[str, Any]
) -> list[str]:
    """The sites the folds leave out, fold ``k`` the ``k``-th (``site_plan``); none without
    crops or with ``max_sites`` 0."""
    limit = max_sites(leave_site_out)
    if limit == 0 or not len(roi_index):
        return []
    return site_plan(roi_index, row_sites(roi_index, study_splits), limit)


def site_cell_key(base: str, sites: pd.Series, site: str) -> str:
    """The key the fold leaving ``site`` out is written with and checked against: ``base``, the
    study folds' key of the same crops (crops, index, settings, training code:
    ``fold_cells.cells_key``, computed once for every fold), the site and which crops are the
    site's."""
    members = np.flatnonzero((sites.astype("string") == site).fillna(False).to_numpy())
    return fingerprint({"folds": base, "site": str(site), "rows": members.tolist()})


def no_folds() -> pd.DataFrame:
    """``site_fold_predictions`` without a fold."""
    return empty_predictions().assign(fold_site=pd.Series(dtype=str), adapted=pd.Series(dtype=bool))


def no_site_cell() -> pd.DataFrame:
    """A fold's partition without rows: the site left out none (a cell past the plan)."""
    return no_folds().assign(**{KEY: pd.Series(dtype=str)})


def no_site_features() -> pd.DataFrame:
    """``site_fold_features`` without a fold: its keys, no feature."""
    return no_fold_features().drop(columns="fold_left_out").assign(fold_site=pd.Series(dtype=str))


def gather_site_cells(
    cells: dict[str, Callable[[], pd.DataFrame]],
    feature_cells: dict[str, Callable[[], pd.DataFrame]],
    disc_rois: np.ndarray,
    roi_index: pd.DataFrame,
    study_splits: pd.DataFrame,
    recipe: Recipe,
    leave_site_out: dict[str, Any],
    name: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Condition ``name``'s leave-site-out folds read back from their partitions: their
    predictions, as ``site_folds.leave_site_out`` returns them, and their features
    (``site_folds.one_site``'s); ``no_folds()`` and ``no_site_features()`` without any. A fold the other
    sites cannot train (``site_fold_index``) is not read; partitions past the plan are ignored.

    Raises:
        ValueError: a fold's partition is missing, or was graded from other crops, sites,
            settings or training code than these (its key differs): named, with the command
            that grades it.
    """
    rois = np.asarray(disc_rois)
    sites = row_sites(roi_index, study_splits)
    base = cells_key(rois, roi_index, recipe)
    tables, described = [], []
    for k, site in enumerate(planned_sites(roi_index, study_splits, leave_site_out)):
        if site_fold_index(roi_index, sites, site) is None:
            continue
        label = f"(site '{site}') "
        key = site_cell_key(base, sites, site)
        tables.append(read_cell(cells, "site", k, name, "predictions", key, label))
        described.append(read_cell(feature_cells, "site", k, name, "features", label=label))
    if not tables:
        return no_folds(), no_site_features()
    return pd.concat(tables, ignore_index=True), pd.concat(described, ignore_index=True)
