"""Study-level train/validation/test split, made once before any condition, stratified by
each study's worst canal grade.

Every study of ``train.csv`` gets one split, whatever series it has, so every condition reads
the same split. Whole sites can be held out (``holdout_sites``): every study of those sites goes
to ``external_test``, an out-of-site test set that no training of any condition sees. A study's
site is what its series' headers say (``dicom.series.site_of``: the scanner model, else its
maker), read from any of its series.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from disc_grade.dicom.series import UNKNOWN_SITE
from disc_grade.rsna import LEVELS, SEVERITIES, SPINAL, label_column

SPLITS = ("train", "validation", "test")
EXTERNAL_TEST = "external_test"
SPLIT_COLUMNS = {
    "study_id": "int64",
    "split": "string",
    "fold": "int64",
    "worst_label": "int8",
    "site": "string",
}


def study_table(train: pd.DataFrame, series: pd.DataFrame) -> pd.DataFrame:
    """One row per study of ``train.csv``: its worst canal grade (-1 when every canal cell is
    blank) and its site (the most common site of its series, ``unknown`` without one).

    Raises:
        ValueError: ``train.csv`` lacks ``study_id`` or a canal column.
    """
    columns = [label_column(SPINAL, level) for level in LEVELS]
    missing = [c for c in ["study_id", *columns] if c not in train.columns]
    if missing:
        raise ValueError(f"train.csv lacks column(s) {missing}; is raw_root an RSNA 2024 folder?")
    codes = {s: i for i, s in enumerate(SEVERITIES)}
    grades = train[columns].apply(lambda c: c.astype("string").str.strip().map(codes))
    worst = grades.max(axis=1).fillna(-1).astype("int8")
    known = series[series["site"].notna() & (series["site"] != UNKNOWN_SITE)]
    sites = known.groupby("study_id")["site"].agg(lambda s: s.mode().iat[0])
    study_ids = train["study_id"].astype("int64")
    return pd.DataFrame(
        {
            "study_id": study_ids.to_numpy(),
            "worst_label": worst.to_numpy(),
            "site": study_ids.map(sites).fillna(UNKNOWN_SITE).astype("string").to_numpy(),
        }
    )


def _fractions(params: dict) -> np.ndarray:
    values = np.array([float(params.get(s, 0.0)) for s in SPLITS])
    if (values < 0).any() or not np.isclose(values.sum(), 1.0):
        raise ValueError(
            f"split fractions train/validation/test must be >= 0 and sum to 1, got {values.tolist()}"
        )
    return values


def holdout_sites(params: dict, suggestion: dict | None = None) -> list[str]:
    """The sites to hold out: ``holdout_sites`` when set (``[]`` for none), else the data's own
    suggestion (``phantom_split.json``, which only the phantom writes), else none.

    Raises:
        ValueError: ``holdout_sites`` is neither null nor a list.
    """
    chosen = params.get("holdout_sites")
    if chosen is None:
        chosen = (suggestion or {}).get("holdout_sites") or []
    if isinstance(chosen, str) or not isinstance(chosen, list | tuple):
        raise ValueError(f"split.holdout_sites must be null, [] or a list of sites, got {chosen!r}")
    return [str(s) for s in chosen]


def assign_splits(
    studies: pd.DataFrame, params: dict, suggestion: dict | None = None
) -> pd.DataFrame:
    """Per study: ``split`` and, with ``n_folds`` > 1, a ``fold`` over the non-test studies.

    Studies are grouped by their worst canal grade; inside a group they are shuffled with
    ``seed`` and dealt out by cumulative fractions, so every split sees every severity the
    cohort has enough studies of. No study is on two sides.

    Args:
        studies: ``study_table`` rows (``study_id``, ``worst_label``, ``site``).
        params: ``train``, ``validation``, ``test`` fractions, ``seed``, ``n_folds`` and
            ``holdout_sites`` (see :func:`holdout_sites`).
        suggestion: the data's own split sidecar, ``{"holdout_sites": [...]}`` or empty.

    Raises:
        ValueError: bad fractions or folds, or a held-out site that no study has.
    """
    fractions = np.cumsum(_fractions(params))
    holdout = holdout_sites(params, suggestion)
    studies = studies.drop_duplicates("study_id").set_index("study_id").sort_index()
    external = pd.DataFrame(columns=list(SPLIT_COLUMNS))
    if holdout:
        missing = sorted(set(holdout) - set(studies["site"]))
        if missing:
            raise ValueError(
                f"split.holdout_sites names {missing}, which no study has; "
                f"the data's sites: {sorted(studies['site'].unique())} (set it to [] for none)"
            )
        held = studies[studies["site"].isin(holdout)]
        external = held.reset_index().assign(split=EXTERNAL_TEST, fold=-1)[list(SPLIT_COLUMNS)]
        studies = studies.drop(held.index)
    n_folds = int(params.get("n_folds", 0) or 0)
    if n_folds == 1 or n_folds < 0:
        raise ValueError(f"split.n_folds must be 0 (no folds) or >= 2, got {n_folds}")
    rng = np.random.default_rng(int(params["seed"]))
    worst, site = studies["worst_label"], studies["site"]
    rows = []
    dealt = {"train": 0, "validation": 0}  # each split dealt over the folds in turn, across strata
    for stratum, group in worst.groupby(worst, sort=True):
        ids = group.index.to_numpy(dtype=np.int64)
        ids = ids[rng.permutation(len(ids))]
        positions = (np.arange(len(ids)) + 0.5) / len(ids)
        split_index = np.searchsorted(fractions, positions, side="right").clip(max=len(SPLITS) - 1)
        for study_id, s in zip(ids, split_index, strict=True):
            fold = -1
            if n_folds and SPLITS[s] in dealt:
                fold = dealt[SPLITS[s]] % n_folds
                dealt[SPLITS[s]] += 1
            rows.append(
                {
                    "study_id": int(study_id),
                    "split": SPLITS[s],
                    "fold": fold,
                    "worst_label": int(stratum),
                    "site": site[study_id],
                }
            )
    if n_folds and dealt["validation"] < n_folds:
        raise ValueError(
            f"split.n_folds {n_folds} needs at least as many validation studies (each fold's "
            f"models stop on the other folds' validation studies), got {dealt['validation']}"
        )
    inside = pd.DataFrame(rows, columns=list(SPLIT_COLUMNS))
    frames = [f for f in (inside, external) if len(f)]
    table = pd.concat(frames, ignore_index=True) if frames else inside
    return table.astype(SPLIT_COLUMNS)


def subsample_training(table: pd.DataFrame, fraction: float, seed: int) -> pd.DataFrame:
    """Keep ``fraction`` of the training studies (at least one), stratified by worst label.

    Rows of the other splits are kept whole: the validation and test sets do not change with
    the label budget. Studies are drawn per worst-label stratum with ``seed``, so a smaller
    fraction of one seed is a subset of a larger one.

    Raises:
        ValueError: ``fraction`` outside (0, 1].
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"study.fraction must be in (0, 1], got {fraction}")
    train = table[table["split"] == "train"]
    worst = train.groupby("study_id")["label"].max().sort_index()
    rng = np.random.default_rng(seed)
    kept: list[int] = []
    for _, studies in worst.groupby(worst, sort=True):
        ids = studies.index.to_numpy(dtype=np.int64)[rng.permutation(len(studies))]
        kept += ids[: int(np.ceil(fraction * len(ids)))].tolist()
    return table[(table["split"] != "train") | table["study_id"].isin(kept)]
