"""Node of the site_folds pipeline: a condition's leave-site-out folds
(``models.training.site_folds``) as partitions ``s<fold>`` of two partitioned datasets (the fold
models' predictions and features), one fold at a time or all in turn; the condition reads them
back (``selection.site_cells``).

A fold reads only the condition's crops, their index, the studies' sites and its settings, so
DVC runs each fold as a cell of its own (``dvc.yaml``'s ``site_folds`` stage, one cell per entry
of ``params.yaml``'s ``site_folds``), on as many machines as a team has.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from disc_grade.models.training.recipe import parse_recipe
from disc_grade.models.training.site_folds import one_site
from disc_grade.selection.cells import KEY, cell_name
from disc_grade.selection.site_cells import (
    no_site_cell,
    no_site_features,
    planned_sites,
    row_sites,
    site_cell_key,
)
from disc_grade.selection.study_cells import (
    cells_key,
    wanted_cells,
)

logger = logging.getLogger(__name__)


def grade_site_cells(
    disc_rois: np.ndarray,
    roi_index: pd.DataFrame,
    study_splits: pd.DataFrame,
    pretraining: dict[str, Any],
    finetuning: dict[str, Any],
    variants: dict[str, dict],
    leave_site_out: dict[str, Any],
    site_fold: int | None,
    name: str,
) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """Leave-site-out fold ``site_fold`` of condition ``name`` (``site_folds.one_site``: every
    variant trained without the fold's site and graded on it), as partition ``s<fold>`` of the
    fold predictions (with the fold's key) and features; every fold in turn where ``site_fold`` is null, as ``kedro run
    --pipelines=train`` does. A fold past the plan (``max_sites`` 0, the CPU demo's default, or
    fewer training sites than the fold) writes an empty partition, so that every cell
    ``dvc.yaml`` lists has its outs.

    Raises:
        ValueError: ``site_fold`` is neither null nor a fold number.
    """
    rois = np.asarray(disc_rois)
    plan = planned_sites(roi_index, study_splits, leave_site_out)
    sites = row_sites(roi_index, study_splits) if plan else None
    recipe = parse_recipe(pretraining, finetuning, variants)
    base = cells_key(rois, roi_index, recipe) if plan else ""
    cells, features = {}, {}
    for k in wanted_cells(site_fold, list(range(len(plan))), "site_fold"):
        cell = cell_name("site", k)
        cells[cell], features[cell] = no_site_cell(), no_site_features()
        if k >= len(plan):
            logger.info("%s: leave-site-out fold %d: no such fold (sites %s)", name, k, plan)
            continue
        logger.info("%s: leave-site-out fold %d/%d: '%s'", name, k + 1, len(plan), plan[k])
        table, described = one_site(
            rois, roi_index, sites, plan[k], recipe.pretraining, recipe.finetuning, recipe.ordered
        )
        if len(table):
            key = site_cell_key(base, sites, plan[k])
            cells[cell], features[cell] = table.assign(**{KEY: key}), described
    return cells, features
