"""A condition's study folds read back from the partitions the folds pipeline writes
(``pipelines/folds``): ``k<fold>`` of three partitioned datasets (the fold models' predictions,
features and weights), each through the one cell reader (``selection.cells.read_cell``), which
refuses a missing or stale fold by name. The key of a fold's cells is ``cells_key``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from disc_grade.models.grading.predict import empty_predictions
from disc_grade.models.training.recipe import Recipe
from disc_grade.models.training.study_folds import fold_key, fold_numbers
from disc_grade.selection.cells import read_cell


def wanted_cells(value: Any, numbers: list[int], parameter: str) -> list[int]:
    """The folds one run grades: the one ``value`` names, or every fold of ``numbers`` where it
    is null (none: fold 0, an empty partition, so that the folder exists).

    Raises:
        ValueError: ``value`` is neither null nor a fold number (``parameter`` names it).
    """
    if value is None:
        return list(numbers) or [0]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{parameter} must be null (every fold) or a fold >= 0, got {value!r}")
    return [value]


def cells_key(disc_rois: np.ndarray, roi_index: pd.DataFrame, recipe: Recipe) -> str:
    """The key a fold's partitions are written with and checked against (``fold_key``), one
    function for the writer and the reader so that the two cannot compute it apart."""
    rois = np.asarray(disc_rois)
    return fold_key(rois, roi_index, recipe.pretraining, recipe.finetuning, recipe.ordered)


def no_study_folds() -> pd.DataFrame:
    """``study_fold_predictions`` without a fold."""
    return empty_predictions().assign(
        adapted=pd.Series(dtype=bool), fold_left_out=pd.Series(dtype="int64")
    )


def no_fold_features() -> pd.DataFrame:
    """``study_fold_features`` without a fold: its keys, no feature."""
    keys = empty_predictions()[["study_id", "condition", "level", "split", "label"]]
    return keys.assign(variant=pd.Series(dtype=str), fold_left_out=pd.Series(dtype="int64"))


def gather_fold_cells(
    predictions: dict[str, Callable[[], pd.DataFrame]],
    features: dict[str, Callable[[], pd.DataFrame]],
    weights: dict[str, Callable[[], dict]],
    disc_rois: np.ndarray,
    roi_index: pd.DataFrame,
    recipe: Recipe,
    name: str,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, dict[str, dict]]]:
    """Condition ``name``'s study folds read back from their partitions, as
    ``study_folds.out_of_fold`` returns them (predictions, features, weights by variant and fold);
    empty without folds. Partitions of folds the split does not deal are ignored.

    Raises:
        ValueError: a fold's partition is missing, or was graded from other crops, folds,
            settings or training code than these (its key differs): named, with the command
            that grades it.
    """
    numbers = fold_numbers(roi_index)
    if not numbers:
        return no_study_folds(), no_fold_features(), {}
    key = cells_key(disc_rois, roi_index, recipe)
    tables, described, graders = [], [], {}
    for k in numbers:
        tables.append(read_cell(predictions, "study", k, name, "predictions", key))
        described.append(read_cell(features, "study", k, name, "features"))
        for variant, state in read_cell(weights, "study", k, name, "weights").items():
            graders.setdefault(variant, {})[str(k)] = state
    return (
        pd.concat(tables, ignore_index=True),
        pd.concat(described, ignore_index=True),
        graders,
    )
