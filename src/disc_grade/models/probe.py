"""What a frozen encoder knows about the grade: a linear probe and a kNN on its pooled features.

Both are fitted on the training split's features and labels and scored (balanced accuracy) on
the validation split; pretraining itself never reads a label. A probe at chance (1/3) says the
features carry no grade information: a failed pretraining run, whatever its loss did.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from disc_grade.models.batches import roi_batch

CHANCE = 1 / 3
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


def probe_scores(
    train_x: np.ndarray, train_y: np.ndarray, val_x: np.ndarray, val_y: np.ndarray, k: int = 5
) -> dict[str, float]:
    """Validation balanced accuracy of a class-balanced linear probe and of a k-nearest-neighbour vote."""
    if len(np.unique(train_y)) < 2 or len(val_y) == 0:
        return {"probe_balanced_accuracy": float("nan"), "knn_balanced_accuracy": float("nan")}
    linear = make_pipeline(
        StandardScaler(), LogisticRegression(class_weight="balanced", max_iter=2000)
    ).fit(train_x, train_y)
    knn = make_pipeline(
        StandardScaler(), KNeighborsClassifier(n_neighbors=min(k, len(train_y)), weights="distance")
    ).fit(train_x, train_y)
    return {
        "probe_balanced_accuracy": float(balanced_accuracy_score(val_y, linear.predict(val_x))),
        "knn_balanced_accuracy": float(balanced_accuracy_score(val_y, knn.predict(val_x))),
    }


def probe_encoder(
    encoder: torch.nn.Module, rois: np.ndarray, index: pd.DataFrame, device: torch.device
) -> dict[str, float]:
    """Probe ``encoder`` on ``rois`` (all splits): fit on ``train``, score on ``validation``."""
    splits = index["split"].to_numpy()
    labels = index["label"].to_numpy(dtype=int)
    train, val = np.flatnonzero(splits == "train"), np.flatnonzero(splits == "validation")
    return probe_scores(
        encode(encoder, rois, train, device), labels[train],
        encode(encoder, rois, val, device), labels[val],
    )  # fmt: skip
