"""Study-level train/validation/test split, stratified by each study's worst severity."""

from __future__ import annotations

import numpy as np
import pandas as pd

SPLITS = ("train", "validation", "test")


def _fractions(params: dict) -> np.ndarray:
    values = np.array([float(params.get(s, 0.0)) for s in SPLITS])
    if (values < 0).any() or not np.isclose(values.sum(), 1.0):
        raise ValueError(
            f"alignment.split fractions train/validation/test must be >= 0 and sum to 1, got {values.tolist()}"
        )
    return values


def assign_splits(discs: pd.DataFrame, params: dict) -> pd.DataFrame:
    """Per study: ``split`` and, with ``n_folds`` > 1, a ``fold`` over the non-test studies.

    Studies are grouped by their worst disc label; inside a group they are shuffled with
    ``seed`` and dealt out by cumulative fractions, so every split sees every severity the
    cohort has enough studies of. No study is on two sides.

    Args:
        discs: needs ``study_id`` and ``label``.
        params: ``train``, ``validation``, ``test`` fractions, ``seed``, ``n_folds``.
    """
    fractions = np.cumsum(_fractions(params))
    n_folds = int(params.get("n_folds", 0) or 0)
    if n_folds == 1 or n_folds < 0:
        raise ValueError(f"alignment.split.n_folds must be 0 (no folds) or >= 2, got {n_folds}")
    rng = np.random.default_rng(int(params["seed"]))
    worst = discs.groupby("study_id")["label"].max().sort_index()
    rows = []
    for stratum, studies in worst.groupby(worst, sort=True):
        ids = studies.index.to_numpy(dtype=np.int64)
        ids = ids[rng.permutation(len(ids))]
        positions = (np.arange(len(ids)) + 0.5) / len(ids)
        split_index = np.searchsorted(fractions, positions, side="right").clip(max=len(SPLITS) - 1)
        fold_counter = 0
        for study_id, s in zip(ids, split_index, strict=True):
            fold = -1
            if n_folds and SPLITS[s] != "test":
                fold, fold_counter = fold_counter % n_folds, fold_counter + 1
            rows.append(
                {
                    "study_id": int(study_id),
                    "split": SPLITS[s],
                    "fold": fold,
                    "worst_label": int(stratum),
                }
            )
    return pd.DataFrame(rows).astype(
        {"study_id": "int64", "split": "string", "fold": "int64", "worst_label": "int8"}
    )
