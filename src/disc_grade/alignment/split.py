"""Study-level train/validation/test split, stratified by each study's worst severity.

Beside the random split by study, whole sites can be held out (``holdout_sites``): every study
of those sites goes to ``external_test``, an out-of-site test set that no training sees. A site
is what the headers say (``dicom.series.site_of``: the scanner model, else its maker).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SPLITS = ("train", "validation", "test")
EXTERNAL_TEST = "external_test"


def _fractions(params: dict) -> np.ndarray:
    values = np.array([float(params.get(s, 0.0)) for s in SPLITS])
    if (values < 0).any() or not np.isclose(values.sum(), 1.0):
        raise ValueError(
            f"alignment.split fractions train/validation/test must be >= 0 and sum to 1, got {values.tolist()}"
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
        raise ValueError(
            f"alignment.split.holdout_sites must be null, [] or a list of sites, got {chosen!r}"
        )
    return [str(s) for s in chosen]


def assign_splits(
    discs: pd.DataFrame, params: dict, suggestion: dict | None = None
) -> pd.DataFrame:
    """Per study: ``split`` and, with ``n_folds`` > 1, a ``fold`` over the non-test studies.

    Studies are grouped by their worst disc label; inside a group they are shuffled with
    ``seed`` and dealt out by cumulative fractions, so every split sees every severity the
    cohort has enough studies of. No study is on two sides.

    Args:
        discs: needs ``study_id`` and ``label`` (and ``site`` with ``holdout_sites``).
        params: ``train``, ``validation``, ``test`` fractions, ``seed``, ``n_folds`` and
            ``holdout_sites`` (see :func:`holdout_sites`).
        suggestion: the data's own split sidecar, ``{"holdout_sites": [...]}`` or empty.

    Raises:
        ValueError: bad fractions or folds, or a held-out site that no study has.
    """
    fractions = np.cumsum(_fractions(params))
    holdout = holdout_sites(params, suggestion)
    external = pd.DataFrame(columns=["study_id", "split", "fold", "worst_label"])
    if holdout:
        sites = discs.groupby("study_id")["site"].first()
        missing = sorted(set(holdout) - set(sites))
        if missing:
            raise ValueError(
                f"alignment.split.holdout_sites names {missing}, which no study has; "
                f"the data's sites: {sorted(sites.unique())} (set it to [] for none)"
            )
        held = sites[sites.isin(holdout)].index
        worst_held = discs[discs["study_id"].isin(held)].groupby("study_id")["label"].max()
        external = pd.DataFrame(
            {"study_id": held, "split": EXTERNAL_TEST, "fold": -1, "worst_label": worst_held[held]}
        )
        discs = discs[~discs["study_id"].isin(held)]
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
    return pd.concat([pd.DataFrame(rows), external], ignore_index=True).astype(
        {"study_id": "int64", "split": "string", "fold": "int64", "worst_label": "int8"}
    )


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
