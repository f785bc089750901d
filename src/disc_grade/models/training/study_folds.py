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


def out_of_fold(
    rois: np.ndarray,
    index: pd.DataFrame,
    pretraining: dict,
    finetuning: dict,
    variants: list[dict],
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, dict[str, dict]]]:
    """Per study fold (``fold_numbers``) and variant, the ``predictions`` rows of the fold's
    model on its validation rows (the other folds' validation studies, to calibrate it), on
    the studies it left out (split ``FOLD_OUT``) and on the test studies (their own splits), with
    ``adapted`` (always false) and ``fold_left_out``; and the fold model's features of its
    training, validation and left-out rows (``site_folds.fold_features``, with ``variant`` and
    ``fold_left_out``), on which the heads that read a grader's features are judged out of fold;
    and each fold model's weights, by variant and fold (``{variant: {str(k): state_dict}}``),
    which the fold models' average ships with. All empty without folds.

    Args:
        index: ``roi_index`` with ``fold`` (row ``i`` describes ``rois[i]``).
        pretraining, finetuning, variants: the condition's settings, as the graders it ships
            were trained with (checkpoints are not written for folds).
    """
    numbers = fold_numbers(index)
    splits = index["split"].astype(str).to_numpy()
    folds = index["fold"].to_numpy(dtype=np.int64) if numbers else np.array([])
    tables, described, graders = [], [], {}
    for k in numbers:
        rows, fold_split = fold_rows(folds, splits, k, FOLD_OUT)
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
        tables += [t.assign(fold_left_out=k) for t in graded]
        described += [t.assign(fold_left_out=k) for t in features]
        for variant, state in weights.items():
            graders.setdefault(variant, {})[str(k)] = state
    if not tables:
        return pd.DataFrame(), pd.DataFrame(), {}
    return (
        pd.concat(tables, ignore_index=True),
        pd.concat(described, ignore_index=True),
        graders,
    )
