"""The head that reads a grader's features (the joint head), graded out of fold so that its
choice sees every training and validation study.

A head is fitted on a grader's features of the training split and judged on validation. With
study folds (``models.training.folds``) each fold model's features of its own training,
validation and left-out rows are kept; here the head is fitted once per fold on that fold
model's features of the fold's training rows (stopped on a share of them, as on the split) and
grades the fold's validation rows (to calibrate it) and its left-out rows. Every training and
validation study is then graded by a head, and a grader, that never saw it: the same footing as
the shipped grader's out-of-fold rows it is compared with. Nothing here calibrates; the rows
are ``predictions``-shaped (uncalibrated) with ``fold_left_out``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from disc_grade.models.grading.context_grading import (
    KEYS,
    held_rows,
)
from disc_grade.models.grading.joint import fit_joint, joint_raw
from disc_grade.rsna import PROB_COLUMNS

FOLD = "fold_left_out"


def fold_numbers_of(features: pd.DataFrame) -> list[int]:
    """The folds a ``study_fold_features`` table holds (none without the column)."""
    if FOLD not in features or features.empty:
        return []
    return sorted(int(k) for k in features[FOLD].unique() if int(k) >= 0)


def too_small(features: pd.DataFrame) -> str | None:
    """Why a head cannot be fitted on every fold of ``features`` (a fold with fewer than two
    training studies, one to fit on and one to stop on, or without a validation row), or None."""
    for k in fold_numbers_of(features):
        fold = features[features[FOLD] == k]
        n_train = fold.loc[fold["split"] == "train", "study_id"].nunique()
        n_validation = int((fold["split"] == "validation").sum())
        if n_train < 2 or n_validation == 0:
            return (
                f"fold {k} holds {n_train} training studies and {n_validation} validation rows "
                "(a head needs 2 and 1)"
            )
    return None


def of_fold(features: pd.DataFrame, k: int) -> pd.DataFrame:
    """Fold ``k``'s rows of a fold features table, as a ``features_table`` (keys, split, label,
    features) with its rows in order."""
    rows = features[features[FOLD] == k]
    return rows.drop(columns=[FOLD, "variant"], errors="ignore").reset_index(drop=True)


def head_rows(index: pd.DataFrame, rows: np.ndarray, raw: np.ndarray, name: str) -> pd.DataFrame:
    """An uncalibrated ``predictions``-shaped table of ``rows`` of ``index`` graded by ``raw``
    ([len(rows), 3]): the keys, split and label, the probabilities, the grade, the variant."""
    table = index.iloc[rows][[*KEYS, "split", "label"]].reset_index(drop=True)
    table = table.astype({"study_id": "int64", "label": "int64"})
    for k, column in enumerate(PROB_COLUMNS):
        table[column] = raw[:, k]
    return table.assign(predicted=raw.argmax(1).astype(np.int64), variant=name)


def joint_out_of_fold(features: dict[str, pd.DataFrame], params: dict) -> pd.DataFrame:
    """The joint head fitted per fold on every listed condition's fold features at once
    (``params``: the ``joint`` block), each study's targets of every condition graded together,
    and its rows for each fold's validation and left-out targets of every condition. Folds
    missing from a condition leave it out of that fold's head.

    Raises:
        ValueError: a study left out for one condition is fitted on for another
            (``_folds_agree``), or a condition's fold too small to fit a head on (``too_small``;
            the caller leaves such a condition out).
    """
    for name, table in features.items():
        if reason := too_small(table):
            raise ValueError(f"joint: {name}'s {reason}")
    numbers = sorted({k for table in features.values() for k in fold_numbers_of(table)})
    tables = []
    for k in numbers:
        folds = {c: of_fold(t, k) for c, t in features.items() if k in fold_numbers_of(t)}
        _folds_agree(folds, k)
        fitted = fit_joint(folds, params)
        held = held_rows(fitted["index"])
        raw = joint_raw(fitted, held)
        tables.append(head_rows(fitted["index"], held, raw, "joint").assign(**{FOLD: k}))
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()


def _folds_agree(folds: dict[str, pd.DataFrame], k: int) -> None:
    """Raises ``ValueError`` where a study fold ``k`` leaves out for one condition is a training
    or validation study of another's (their fold features come from different splits)."""
    inside = set().union(
        *(set(t.loc[t["split"].isin(["train", "validation"]), "study_id"]) for t in folds.values())
    )
    out = set().union(
        *(set(t.loc[~t["split"].isin(["train", "validation"]), "study_id"]) for t in folds.values())
    )
    if inside & out:
        raise ValueError(
            f"joint: fold {k} leaves out {len(inside & out)} studies for one condition that "
            "another's fold model trained or stopped on; the conditions' study folds must come "
            "from one split (split.n_folds)"
        )
