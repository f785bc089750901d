"""What a frozen encoder knows about the grade: a linear probe and a kNN on its pooled features.

Both are cross-validated over the training and validation discs, folds by study (balanced
accuracy of the out-of-fold predictions); pretraining itself never reads a label and the test
splits are never read. A probe at chance (1/3) says the features carry no grade information:
a failed pretraining run, whatever its loss did.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from disc_grade.models.batches import roi_batch

CHANCE = 1 / 3
PROBE_SPLITS = ("train", "validation")
EVAL_BATCH = 256


def encode(
    encoder: torch.nn.Module, rois: np.ndarray, rows: np.ndarray, device: torch.device
) -> np.ndarray:
    """[n, F] pooled features of ``rois[rows]``, the encoder in eval mode (no gradients)."""
    was_training = encoder.training
    encoder.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(rows), EVAL_BATCH):
            out.append(
                encoder(roi_batch(rois, rows[start : start + EVAL_BATCH], device))
                .float()
                .cpu()
                .numpy()
            )
    encoder.train(was_training)
    return np.concatenate(out) if out else np.zeros((0, 0), dtype=np.float32)


def _fold_predictions(model, x: np.ndarray, y: np.ndarray, folds) -> np.ndarray:
    predicted = np.full(len(y), -1)
    for fit_rows, held_rows in folds:
        if len(np.unique(y[fit_rows])) > 1:
            predicted[held_rows] = clone(model).fit(x[fit_rows], y[fit_rows]).predict(x[held_rows])
    return predicted


def probe_scores(
    x: np.ndarray, y: np.ndarray, groups: np.ndarray, n_folds: int = 5, k: int = 5
) -> dict[str, float]:
    """Out-of-fold balanced accuracy of a class-balanced linear probe and of a k-NN vote.

    Folds are by ``groups`` (studies) and stratified by grade, so no study is on both sides of
    a fold and every disc is scored once: far steadier than one small validation split.
    """
    n_folds = min(n_folds, len(np.unique(groups)), int(np.bincount(y).max()))
    if n_folds < 2 or len(np.unique(y)) < 2:
        return {"probe_balanced_accuracy": float("nan"), "knn_balanced_accuracy": float("nan")}
    folds = list(
        StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=0).split(x, y, groups)
    )
    linear = make_pipeline(
        StandardScaler(), LogisticRegression(class_weight="balanced", max_iter=2000)
    )
    knn = make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=k, weights="distance"))
    scores = {}
    for name, model in (("probe", linear), ("knn", knn)):
        predicted = _fold_predictions(model, x, y, folds)
        scored = predicted >= 0
        scores[f"{name}_balanced_accuracy"] = float(
            balanced_accuracy_score(y[scored], predicted[scored])
        )
    return scores


def probe_encoder(
    encoder: torch.nn.Module, rois: np.ndarray, index: pd.DataFrame, device: torch.device
) -> dict[str, float]:
    """Probe ``encoder`` on the training and validation discs, cross-validated by study.

    The test splits are never read.
    """
    rows = np.flatnonzero(index["split"].isin(PROBE_SPLITS).to_numpy())
    return probe_scores(
        encode(encoder, rois, rows, device),
        index["label"].to_numpy(dtype=int)[rows],
        index["study_id"].to_numpy()[rows],
    )
