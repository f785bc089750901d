"""Every fold of a plan trained in one process and joined by kind: what the folds' cells, each
graded by a run of its own, must give back when read together."""

from __future__ import annotations

import numpy as np
import pandas as pd

from disc_grade.models.training.fold_plan import fold_plan
from disc_grade.models.training.folds import Graded, joined, train_fold


def every_fold(
    rois: np.ndarray,
    index: pd.DataFrame,
    sites: pd.Series | None,
    pretraining: dict,
    finetuning: dict,
    variants: list[dict],
    max_sites: int | None = 0,
) -> dict[str, Graded]:
    """Every fold of ``fold_plan`` in turn (``train_fold``), joined by kind (``joined``):
    ``{"study": ..., "site": ...}``.

    Args:
        index: ``roi_index`` (row ``i`` describes ``rois[i]``), with ``fold`` for study folds.
        sites: each row's site (its study's); None: no site fold.
        pretraining, finetuning, variants: the condition's recipe, as the graders it ships were
            trained with (checkpoints are not written for folds).
        max_sites: how many training sites are left out in turn (None: every one).
    """
    graded: dict[str, list] = {"study": [], "site": []}
    for fold in fold_plan(index, sites, max_sites):
        result = train_fold(rois, index, sites, fold, pretraining, finetuning, variants)
        graded[fold.kind].append((fold, result))
    return {kind: joined(folds) for kind, folds in graded.items()}
