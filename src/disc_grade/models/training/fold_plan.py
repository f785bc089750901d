"""Which studies each fold leaves out. A fold is ``(kind, k)``:

- ``study``: the split deals the training and validation studies into folds by study
  (``split.n_folds`` >= 2, stratified by their worst canal grade); study fold ``k`` leaves out
  the studies dealt into fold ``k`` (split ``FOLD_OUT``) and also grades the test studies, so
  that the fold models' average can be reported beside the shipped grader.
- ``site``: leave-site-out fold ``k`` leaves out the ``k``-th training site of ``site_plan`` (the
  largest first, at most ``leave_site_out.max_sites``; split ``SITE_OUT``), and reads no test
  study.

Either way the fold trains on the other training studies and stops on the other validation
studies; no fold trains or stops on a study it grades.
"""

from __future__ import annotations

import logging
from typing import NamedTuple

import numpy as np
import pandas as pd

from disc_grade.dicom.series import UNKNOWN_SITE

logger = logging.getLogger(__name__)
FOLD_SPLITS = ("train", "validation")
FOLD_OUT = "fold_out"  # the split a study fold gives the studies it leaves out
SITE_OUT = "site_out"  # the split a site fold gives the site it leaves out
ADAPTED_OUT = "site_out_adapted"  # the left-out site's features once BatchNorm adapted to it


class Fold(NamedTuple):
    """One fold: its kind, its number within the kind and what it leaves out (the study fold's
    number, or the site)."""

    kind: str
    k: int
    group: int | str


class FoldRule(NamedTuple):
    """How a kind of fold grades: the split of what it leaves out, the column naming the fold
    in its rows, whether it grades the left-out rows again with BatchNorm adapted to them, and
    whether it grades the test studies."""

    out_split: str
    column: str
    adapt: bool
    grades_test: bool


RULES = {
    "study": FoldRule(FOLD_OUT, "fold_left_out", adapt=False, grades_test=True),
    "site": FoldRule(SITE_OUT, "fold_site", adapt=True, grades_test=False),
}


def fold_numbers(index: pd.DataFrame) -> list[int]:
    """The study folds the training and validation rows are dealt into (``fold`` >= 0), in
    order; none where they are not dealt into two or more.

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


def site_values(sites: pd.Series) -> np.ndarray:
    """Each row's site as text, ``UNKNOWN_SITE`` where the study names none."""
    return sites.astype("string").fillna(UNKNOWN_SITE).to_numpy()


def fold_sites(sites: pd.Series, splits: pd.Series, max_sites: int | None) -> list[str]:
    """The sites to leave out in turn: known sites with training studies, the largest first
    (by training studies, then by name), at most ``max_sites`` (None: all). Fewer than two
    training sites leave nothing out: a fold would have nothing to train on.

    Raises:
        ValueError: ``max_sites`` below 0.
    """
    if max_sites is not None and int(max_sites) < 0:
        raise ValueError(f"leave_site_out.max_sites must be null or >= 0, got {max_sites}")
    train = pd.Series(sites[(splits == "train").to_numpy()].to_numpy(), dtype="string")
    counts = train[train.notna() & (train != UNKNOWN_SITE)].value_counts()
    if len(counts) < 2:
        return []
    order = sorted(counts.index, key=lambda s: (-int(counts[s]), str(s)))
    return [str(s) for s in order[: None if max_sites is None else int(max_sites)]]


def site_plan(index: pd.DataFrame, sites: pd.Series | None, max_sites: int | None) -> list[str]:
    """The sites left out in turn, site fold ``k`` the ``k``-th (``fold_sites`` of ``index``'s
    rows, ``sites`` each row's site); none without sites or with ``max_sites`` 0."""
    if sites is None or max_sites == 0 or not len(index):
        return []
    splits = index["split"].astype(str).to_numpy()
    return fold_sites(pd.Series(site_values(sites)), pd.Series(splits), max_sites)


def fold_plan(index: pd.DataFrame, sites: pd.Series | None, max_sites: int | None) -> list[Fold]:
    """Every fold of ``index``: its study folds (``fold_numbers``), then its site folds
    (``site_plan``)."""
    study = [Fold("study", k, k) for k in fold_numbers(index)]
    site = [Fold("site", k, s) for k, s in enumerate(site_plan(index, sites, max_sites))]
    return study + site


def _groups(index: pd.DataFrame, sites: pd.Series | None, kind: str) -> np.ndarray:
    """Each row's group for a fold of ``kind``: its study fold, or its site."""
    return index["fold"].to_numpy(np.int64) if kind == "study" else site_values(sites)


def left_out_rows(index: pd.DataFrame, sites: pd.Series | None, fold: Fold) -> np.ndarray:
    """The positions of the rows in ``fold``'s group (of any split)."""
    return np.flatnonzero(_groups(index, sites, fold.kind) == fold.group)


def fold_index(
    index: pd.DataFrame, sites: pd.Series | None, fold: Fold
) -> tuple[np.ndarray, pd.DataFrame] | None:
    """The rows fold ``fold`` reads (every training and validation row; a study fold also the
    test rows) and its index, the rows it leaves out in split ``RULES[kind].out_split``. None,
    with a warning, for a site fold the other sites cannot train (2 training ROIs and 1
    validation ROI).

    Raises:
        ValueError: a study fold the other folds cannot train (lower ``split.n_folds``).
    """
    rule = RULES[fold.kind]
    splits = index["split"].astype(str).to_numpy()
    groups = _groups(index, sites, fold.kind)
    rows = np.flatnonzero(np.isin(splits, FOLD_SPLITS))
    fold_split = np.where(groups[rows] == fold.group, rule.out_split, splits[rows]).astype(object)
    n_train, n_val = int((fold_split == "train").sum()), int((fold_split == "validation").sum())
    if n_train < 2 or not n_val:
        why = f"{n_train} training and {n_val} validation ROIs (a fold needs 2 and 1)"
        if fold.kind == "study":
            raise ValueError(
                f"study fold {fold.k}: the other folds hold {why}; lower split.n_folds"
            )
        logger.warning(
            "leave-site-out: '%s' not left out: the other sites have %s", fold.group, why
        )
        return None
    if rule.grades_test:  # graded by every fold model, never trained or stopped on
        held = np.flatnonzero(~np.isin(splits, FOLD_SPLITS))
        rows, fold_split = np.concatenate([rows, held]), np.concatenate([fold_split, splits[held]])
    return rows, index.iloc[rows].assign(split=fold_split).reset_index(drop=True)
