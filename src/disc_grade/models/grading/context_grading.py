"""A grader's features, and the head that reads them: an attention head over a study's targets
(``models.grading.context``), as the joint head fits it.

The head reads fixed inputs: a grader's encoder features and logits for every ROI, standardised
on the training split. It is trained on the training split and stopped on a fifth of its studies
held back; it is then calibrated on validation like any grader (``models.calibration``), and
whether it grades is decided on validation (or out of fold), which it has not seen.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from disc_grade.models.grading.context import fit_head
from disc_grade.models.grading.image_statistics import STATISTICS, image_statistics
from disc_grade.models.training.probe import encode

KEYS = ["study_id", "condition", "level"]


def grader_features(model, rois: np.ndarray, device: torch.device) -> np.ndarray:
    """[n, F + 3] a grader's encoder features of every ROI and its severity logits."""
    features = encode(model.encoder, rois, np.arange(len(rois)), device)
    linear = model.severity[-1]  # dropout, then this layer: the logits in eval mode
    weight = linear.weight.detach().cpu().numpy()
    logits = features @ weight.T + linear.bias.detach().cpu().numpy()
    return np.concatenate([features, logits], axis=1).astype(np.float32)


def probe(features: np.ndarray, index: pd.DataFrame) -> dict[str, float]:
    """Balanced accuracy per held-out split of a linear probe fitted on the training split's
    ``features`` (standardised, class-balanced logistic regression): what the features hold,
    whatever head reads them."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    split = index["split"].astype(str).to_numpy()
    labels = index["label"].to_numpy(dtype=int)
    train = split == "train"
    held = sorted(set(split) - {"train"})
    if len(np.unique(labels[train])) < 2:  # a tiny cohort: nothing to tell apart
        return {s: float("nan") for s in held}
    model = make_pipeline(
        StandardScaler(), LogisticRegression(class_weight="balanced", max_iter=2000)
    ).fit(features[train], labels[train])
    return {
        s: float(balanced_accuracy_score(labels[split == s], model.predict(features[split == s])))
        for s in held
    }


def split_rows(index: pd.DataFrame, split: str) -> np.ndarray:
    return np.flatnonzero(index["split"].astype(str).to_numpy() == split)


def held_rows(index: pd.DataFrame) -> np.ndarray:
    """The rows a head grades after fitting: every split but the training one."""
    return np.flatnonzero(index["split"].astype(str).to_numpy() != "train")


def stopping_rows(index: pd.DataFrame, train: np.ndarray, fraction: float, seed: int):
    """``train`` split by study into rows to fit on and rows to stop on (``fraction`` of the
    studies, seeded), so the validation split stays unseen by the heads until it judges them."""
    studies = np.unique(index["study_id"].to_numpy()[train])
    n_stop = min(len(studies) - 1, max(1, round(fraction * len(studies))))
    if n_stop < 1:
        raise ValueError(f"context: {len(studies)} training studies, cannot hold any back")
    held = np.random.default_rng(seed).choice(studies, size=n_stop, replace=False)
    stop = np.isin(index["study_id"].to_numpy()[train], held)
    return train[~stop], train[stop]


def fit_attention_head(features: np.ndarray, index: pd.DataFrame, params: dict) -> dict:
    """The attention head on standardised ``features`` (rows of ``index``), fitted on the
    training split less ``stop_fraction`` of its studies, on which it is stopped.

    Returns:
        ``mean``, ``std`` (the training split's), ``model``, ``validation_loss`` (on the
        held-back training studies) and ``epochs``.

    Raises:
        ValueError: no training or no validation row.
    """
    train, val = split_rows(index, "train"), split_rows(index, "validation")
    if len(train) == 0 or len(val) == 0:
        raise ValueError(
            f"context: needs training and validation rows, got {len(train)} and {len(val)}"
        )
    fit, stop = stopping_rows(index, train, float(params["stop_fraction"]), int(params["seed"]))
    mean = features[train].mean(axis=0)
    std = features[train].std(axis=0) + 1e-6
    x = ((features - mean) / std).astype(np.float32)
    model, info = fit_head(x, index, fit, stop, True, params)
    return {"mean": mean, "std": std, "model": model, **info}


def head_table(
    base: pd.DataFrame, index: pd.DataFrame, rows: np.ndarray, raw: np.ndarray, name: str
) -> pd.DataFrame:
    """A ``predictions`` table (uncalibrated) for ``rows`` of ``index``, graded by ``raw``; the
    rows' other columns (points, split, label) from the grader's table ``base``."""
    from disc_grade.rsna import PROB_COLUMNS, RAW_PROB_COLUMNS

    keys = index.iloc[rows][KEYS].reset_index(drop=True)
    keys["study_id"] = keys["study_id"].astype(np.int64)
    graded = [*PROB_COLUMNS, "predicted", *RAW_PROB_COLUMNS, "raw_predicted"]
    plain = base.drop(columns=graded, errors="ignore")  # the grader's grades, calibrated or not
    table = keys.merge(plain, on=KEYS, how="left", validate="one_to_one")
    if table["split"].isna().any():
        raise ValueError(f"context: {int(table['split'].isna().sum())} ROI rows have no prediction")
    for k, column in enumerate(PROB_COLUMNS):
        table[column] = raw[:, k]
    return table.assign(predicted=raw.argmax(1).astype(np.int64), variant=name)


def features_table(
    features: np.ndarray, index: pd.DataFrame, rois: np.ndarray | None = None
) -> pd.DataFrame:
    """The chosen grader's ``features`` of every row of ``index`` as a table keyed like the
    predictions (``KEYS``, ``split``, ``label``; ``f0`` .. ``f<F-1>``), for the joint head and
    the novelty warning; with ``rois`` (row ``i`` is ``index``'s row ``i``) also their image
    statistics (``image_statistics.STATISTICS``), for the warning."""
    keys = index[[c for c in (*KEYS, "split", "label") if c in index]].reset_index(drop=True)
    keys = keys.astype({"study_id": "int64"})
    columns = [f"f{i}" for i in range(features.shape[1])]
    parts = [keys, pd.DataFrame(features, columns=columns)]
    if rois is not None:
        parts.append(pd.DataFrame(image_statistics(rois), columns=list(STATISTICS)))
    return pd.concat(parts, axis=1)


def features_of(table: pd.DataFrame) -> np.ndarray:
    """[n, F] the features of a ``features_table``."""
    return table[[c for c in table.columns if c.startswith("f") and c[1:].isdigit()]].to_numpy(
        dtype=np.float32
    )
