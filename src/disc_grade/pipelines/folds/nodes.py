"""Node of the folds pipeline: a condition's folds of both kinds (``models.training.folds``) as
cells, partition ``k<fold>`` (a study fold) or ``s<fold>`` (a leave-site-out fold) of three
partitioned datasets (the fold models' predictions, features and weights), one cell at a time or
every one in turn; the condition reads them back (``selection.fold_cells``).

A fold reads only the condition's crops, their index, the studies' sites and its recipe, so DVC
runs each as a cell of its own (``dvc.yaml``'s ``folds`` stage, one cell per entry of
``params.yaml``'s ``folds``), on as many machines as a team has.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from disc_grade.models.training.fold_plan import fold_plan
from disc_grade.models.training.folds import train_fold
from disc_grade.models.training.recipe import parse_recipe
from disc_grade.selection.cells import KEY, cell_kind, cell_name, wanted_cells
from disc_grade.selection.fold_cells import (
    cell_key,
    cells_key,
    max_sites,
    no_features,
    no_folds,
    row_sites,
)

logger = logging.getLogger(__name__)


def grade_fold_cells(
    disc_rois: np.ndarray,
    roi_index: pd.DataFrame,
    study_splits: pd.DataFrame,
    pretraining: dict[str, Any],
    finetuning: dict[str, Any],
    variants: dict[str, dict],
    leave_site_out: dict[str, Any],
    fold: str | None,
    name: str,
) -> tuple[dict, dict, dict]:
    """Cell ``fold`` of condition ``name`` (``folds.train_fold``: every variant trained without
    the fold's studies, then graded on them): its predictions (with the cell's key), features
    and weights; every cell of the plan in turn where ``fold`` is null, as ``kedro run
    --pipelines=train`` does. A cell outside the plan (``split.n_folds`` or
    ``leave_site_out.max_sites`` 0, the CPU demo's defaults, or at most its number) writes empty
    partitions, so that every cell ``dvc.yaml`` lists has its outs.

    Raises:
        ValueError: ``fold`` is neither null nor a cell name.
    """
    rois = np.asarray(disc_rois)
    recipe = parse_recipe(pretraining, finetuning, variants)
    sites = row_sites(roi_index, study_splits)
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
