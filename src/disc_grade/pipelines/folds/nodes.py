"""Node of the folds pipeline: a condition's study folds (``models.training.study_folds``) as
partitions ``k<fold>`` of three partitioned datasets (the fold models' predictions, features and
weights), one fold at a time or all in turn; the condition reads them back
(``selection.study_cells``).

A fold reads only the condition's crops, their index and its settings, so DVC runs each fold as
a cell of its own (``dvc.yaml``'s ``folds`` stage, one cell per entry of ``params.yaml``'s
``folds``), on as many machines as a team has.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from disc_grade.models.training.recipe import parse_recipe
from disc_grade.models.training.study_folds import fold_numbers, one_fold
from disc_grade.selection.cells import KEY, cell_name
from disc_grade.selection.study_cells import (
    cells_key,
    no_fold_features,
    no_study_folds,
    wanted_cells,
)

logger = logging.getLogger(__name__)


def grade_fold_cells(
    disc_rois: np.ndarray,
    roi_index: pd.DataFrame,
    pretraining: dict[str, Any],
    finetuning: dict[str, Any],
    variants: dict[str, dict],
    study_fold: int | None,
    name: str,
) -> tuple[dict, dict, dict]:
    """Study fold ``study_fold`` of condition ``name`` (``study_folds.one_fold``: every variant
    trained on the other folds), as partition ``k<fold>`` of the fold predictions (with the
    fold's key), features and weights; every fold in turn where ``study_fold`` is null, as
    ``kedro run --pipelines=train`` does. A fold the split does not deal (``split.n_folds`` 0, or
    at most the fold) writes empty partitions, so that every cell ``dvc.yaml`` lists has its outs.

    Raises:
        ValueError: ``study_fold`` is neither null nor a fold number.
    """
    rois = np.asarray(disc_rois)
    recipe = parse_recipe(pretraining, finetuning, variants)
    numbers = fold_numbers(roi_index)
    key = cells_key(rois, roi_index, recipe)
    tables, features, weights = {}, {}, {}
    for k in wanted_cells(study_fold, numbers, "study_fold"):
        if k in numbers:
            table, described, states = one_fold(
                rois, roi_index, k, recipe.pretraining, recipe.finetuning, recipe.ordered
            )
        else:
            logger.info("%s: study fold %d: the split deals no such fold (%s)", name, k, numbers)
            table, described, states = no_study_folds(), no_fold_features(), {}
        tables[cell_name("study", k)] = table.assign(**{KEY: key})
        features[cell_name("study", k)] = described
        weights[cell_name("study", k)] = states
    return tables, features, weights
