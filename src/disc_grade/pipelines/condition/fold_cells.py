"""A condition's study folds read back from the partitions the folds pipeline writes
(``pipelines/folds``): ``k<fold>`` of three partitioned datasets (the fold models' predictions,
features and weights). Each predictions partition carries the key of what it was graded from
(``study_folds.fold_key``); a missing or stale fold is refused, by name, with the command that
grades it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from disc_grade.models.grading.predict import empty_predictions
from disc_grade.models.training.finetune import VARIANTS
from disc_grade.models.training.study_folds import fold_key, fold_numbers

KEY = "fold_key"  # the column of a predictions partition that names what it was graded from


def cell_name(k: int) -> str:
    """The partition of study fold ``k`` (``k0``, ``k1``, ...), as ``dvc.yaml`` spells it."""
    return f"k{int(k)}"


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


def ordered_variants(variants: dict[str, dict]) -> list[dict]:
    """The variants' settings in the order every fold trains them (``VARIANTS``)."""
    return [variants[v] for v in VARIANTS]


def cells_key(
    disc_rois: np.ndarray,
    roi_index: pd.DataFrame,
    pretraining: dict[str, Any],
    finetuning: dict[str, Any],
    variants: dict[str, dict],
) -> str:
    """The key a fold's partitions are written with and checked against (``fold_key``), one
    function for the writer and the reader so that the two cannot compute it apart."""
    rois = np.asarray(disc_rois)
    return fold_key(rois, roi_index, pretraining, finetuning, ordered_variants(variants))


def no_study_folds() -> pd.DataFrame:
    """``study_fold_predictions`` without a fold."""
    return empty_predictions().assign(
        adapted=pd.Series(dtype=bool), fold_left_out=pd.Series(dtype="int64")
    )


def no_fold_features() -> pd.DataFrame:
    """``study_fold_features`` without a fold: its keys, no feature."""
    keys = empty_predictions()[["study_id", "condition", "level", "split", "label"]]
    return keys.assign(variant=pd.Series(dtype=str), fold_left_out=pd.Series(dtype="int64"))


def _cell(parts: dict[str, Callable[[], Any]], k: int, what: str, name: str) -> Any:
    if cell_name(k) not in parts:
        raise ValueError(
            f"{name}: study fold {k} has no {what} partition ({cell_name(k)}); grade it with "
            f"`kedro run --pipelines=folds --namespaces={name} --params=study_fold={k}` or "
            f"`dvc repro folds@{name}-{k}` (params.yaml's folds must list every fold of "
            "split.n_folds)"
        )
    return parts[cell_name(k)]()


def gather_fold_cells(
    predictions: dict[str, Callable[[], pd.DataFrame]],
    features: dict[str, Callable[[], pd.DataFrame]],
    weights: dict[str, Callable[[], dict]],
    disc_rois: np.ndarray,
    roi_index: pd.DataFrame,
    pretraining: dict[str, Any],
    finetuning: dict[str, Any],
    variants: dict[str, dict],
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
    key = cells_key(disc_rois, roi_index, pretraining, finetuning, variants)
    tables, described, graders = [], [], {}
    for k in numbers:
        table = _cell(predictions, k, "predictions", name)
        if table.empty or set(table[KEY]) != {key}:
            raise ValueError(
                f"{name}: study fold {k} was graded from other crops, folds, settings or "
                f"training code than this run's (or before the split dealt it); grade it again "
                f"with `kedro run "
                f"--pipelines=folds --namespaces={name} --params=study_fold={k}` or `dvc repro "
                f"folds@{name}-{k}`"
            )
        tables.append(table.drop(columns=[KEY]))
        described.append(_cell(features, k, "features", name))
        for variant, state in _cell(weights, k, "weights", name).items():
            graders.setdefault(variant, {})[str(k)] = state
    return (
        pd.concat(tables, ignore_index=True),
        pd.concat(described, ignore_index=True),
        graders,
    )
