"""Node of the folds pipeline: a condition's folds of both kinds (``models.training.folds``) as
cells, partition ``k<fold>`` (a study fold) or ``s<fold>`` (a leave-site-out fold) of three
partitioned datasets (the fold models' predictions, features and weights), one cell at a time or
every one in turn; the condition reads them back (``selection.fold_cells``).

A fold reads only the condition's crops, their index, the studies' sites and its recipe, so DVC
runs each as a cell of its own (``dvc.yaml``'s ``folds`` stage, one cell per entry of
``params.yaml``'s ``folds``), on as many machines as a team has.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from disc_grade.models.training.recipe import parse_recipe
from disc_grade.selection.fold_cells import grade_cells, row_sites


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
    """Cell ``fold`` of condition ``name``, or every cell of its plan where ``fold`` is null
    (``fold_cells.grade_cells``), each crop at its study's site."""
    recipe = parse_recipe(pretraining, finetuning, variants)
    sites = row_sites(roi_index, study_splits)
    return grade_cells(disc_rois, roi_index, sites, recipe, leave_site_out, fold, name)
