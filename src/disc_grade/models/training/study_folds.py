"""Study folds: every candidate grader trained once per fold of the non-test studies, then graded
on the fold it left out, so that every training and validation study has an out-of-fold
prediction from a model that never saw it.

The split (``split.n_folds`` >= 2) deals the training and validation studies into folds by
study, stratified by their worst canal grade. Fold ``k`` leaves its studies out: the contrastive
encoder is pretrained again and every variant fine-tuned again on the other folds' training
studies (its epoch chosen on their validation studies), then it grades fold ``k``'s studies, of
both splits. A choice made on these predictions sees every non-test study instead of the
validation split alone. No fold trains or stops on a study it grades; every fold model also
grades the test studies, so that the fold models' average can be reported beside the shipped
grader (``fold_choice.fold_average_metrics``; test figures play no part in a choice).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from disc_grade.models.training.checkpoint import fingerprint, run_key
from disc_grade.models.training.site_folds import FOLD_SPLITS, fold_rows, grade_fold

logger = logging.getLogger(__name__)
FOLD_OUT = "fold_out"  # the split a study fold gives the studies it leaves out


def fold_numbers(index: pd.DataFrame) -> list[int]:
    """The folds the training and validation rows are dealt into (``fold`` >= 0), in order;
    none where they are not dealt into two or more.

    Raises:
        ValueError: a training or validation row without a fold beside rows with one (the split
            table and the targets disagree).
    """
    if "fold" not in index:
        return []
    inside = index.loc[index["split"].isin(FOLD_SPLITS), "fold"].to_numpy(dtype=np.int64)
    if (inside >= 0).any() and (inside < 0).any():
        raise ValueError(
            f"roi_index: {int((inside < 0).sum())} training or validation rows have no fold "
            "beside rows that have one; run the split again (split.n_folds)"
        )
    numbers = sorted(int(k) for k in np.unique(inside[inside >= 0]))
    return numbers if len(numbers) >= 2 else []


def one_fold(
    rois: np.ndarray,
    index: pd.DataFrame,
    k: int,
    pretraining: dict,
    finetuning: dict,
    variants: list[dict],
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, dict]]:
    """Study fold ``k`` alone (one of ``fold_numbers(index)``): every variant trained on the
    other folds, its ``predictions`` rows on their validation rows, on the studies fold ``k``
    leaves out (split ``FOLD_OUT``) and on the test studies, with ``adapted`` (false) and
    ``fold_left_out``; its features (``site_folds.fold_features``, with ``variant`` and
    ``fold_left_out``) and its weights by variant (``{variant: state_dict}``). A fold reads only
    ``rois``, ``index`` and the settings, so each one can run apart (``pipelines/folds``).

    Raises:
        ValueError: ``k`` is not one of the folds, or the other folds hold too few rows.
    """
    numbers = fold_numbers(index)
    if k not in numbers:
        raise ValueError(f"study fold {k}: roi_index deals its studies into folds {numbers}")
    splits = index["split"].astype(str).to_numpy()
    rows, fold_split = fold_rows(index["fold"].to_numpy(dtype=np.int64), splits, k, FOLD_OUT)
    if (fold_split == "train").sum() < 2 or not (fold_split == "validation").any():
        raise ValueError(
            f"study fold {k}: the other folds hold {int((fold_split == 'train').sum())} "
            f"training and {int((fold_split == 'validation').sum())} validation ROIs (a fold "
            "needs 2 and 1); lower split.n_folds"
        )
    # the test studies are graded by every fold model, never trained or stopped on: the
    # fold models' average is reported beside the shipped grader
    held = np.flatnonzero(~np.isin(splits, FOLD_SPLITS))
    rows, fold_split = np.concatenate([rows, held]), np.concatenate([fold_split, splits[held]])
    fold_index = index.iloc[rows].assign(split=fold_split).reset_index(drop=True)
    logger.info(
        "study fold %d/%d: %d ROIs left out and graded; %d training ROIs",
        k + 1,
        len(numbers),
        int((fold_split == FOLD_OUT).sum()),
        int((fold_split == "train").sum()),
    )
    graded, features, weights = grade_fold(
        rois[rows], fold_index, pretraining, finetuning, variants, FOLD_OUT, False, True
    )
    return (
        pd.concat([t.assign(fold_left_out=k) for t in graded], ignore_index=True),
        pd.concat([t.assign(fold_left_out=k) for t in features], ignore_index=True),
        weights,
    )


def out_of_fold(
    rois: np.ndarray,
    index: pd.DataFrame,
    pretraining: dict,
    finetuning: dict,
    variants: list[dict],
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, dict[str, dict]]]:
    """Every study fold (``fold_numbers``) in turn (``one_fold``): the ``predictions`` rows of
    each fold's models on its validation rows (the other folds' validation studies, to calibrate
    it), on the studies it left out (split ``FOLD_OUT``) and on the test studies, with
    ``adapted`` (always false) and ``fold_left_out``; the fold models' features of their
    training, validation and left-out rows, on which the heads that read a grader's features are
    judged out of fold; and each fold model's weights, by variant and fold (``{variant: {str(k):
    state_dict}}``), which the fold models' average ships with. All empty without folds.

    Args:
        index: ``roi_index`` with ``fold`` (row ``i`` describes ``rois[i]``).
        pretraining, finetuning, variants: the condition's settings, as the graders it ships
            were trained with (checkpoints are not written for folds).
    """
    tables, described, graders = [], [], {}
    for k in fold_numbers(index):
        table, features, weights = one_fold(rois, index, k, pretraining, finetuning, variants)
        tables.append(table)
        described.append(features)
        for variant, state in weights.items():
            graders.setdefault(variant, {})[str(k)] = state
    if not tables:
        return pd.DataFrame(), pd.DataFrame(), {}
    return (
        pd.concat(tables, ignore_index=True),
        pd.concat(described, ignore_index=True),
        graders,
    )


def fold_key(
    rois: np.ndarray, index: pd.DataFrame, pretraining: dict, finetuning: dict, variants: list
) -> str:
    """What a study fold's results depend on, as one digest: the crops, their index (splits and
    folds included), the settings the fold models train with and the training code
    (``checkpoint.run_key``). A fold graded with another key is stale."""
    key = run_key(rois=rois, index=index, settings=[pretraining, finetuning, variants])
    return fingerprint(key)
