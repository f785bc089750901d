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

from disc_grade.models.components.networks import feature_size
from disc_grade.models.training.batches import roi_batch

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
    if not out:  # no row: as wide as the encoder's features all the same
        return np.zeros((0, feature_size(encoder)), dtype=np.float32)
    return np.concatenate(out)


def _fold_predictions(model, x: np.ndarray, y: np.ndarray, folds, balance: bool) -> np.ndarray:
    """Out-of-fold predictions; with ``balance`` the class probabilities are divided by the
    class frequencies of the fitting rows (the rule that maximises balanced accuracy)."""
    predicted = np.full(len(y), -1)
    for fit_rows, held_rows in folds:
        if len(np.unique(y[fit_rows])) < 2:
            continue
        fitted = clone(model).fit(x[fit_rows], y[fit_rows])
        if balance:
            prior = np.array([np.mean(y[fit_rows] == c) for c in fitted.classes_])
            scores = fitted.predict_proba(x[held_rows]) / prior
            predicted[held_rows] = fitted.classes_[scores.argmax(1)]
        else:
            predicted[held_rows] = fitted.predict(x[held_rows])
    return predicted


def probe_scores(
    x: np.ndarray, y: np.ndarray, groups: np.ndarray, n_folds: int = 5, k: int = 5
) -> dict[str, float]:
    """Out-of-fold balanced accuracy of a class-balanced linear probe and of a k-NN vote.

    The k-NN's vote shares are divided by the grade frequencies: a plain vote among 5
    neighbours almost never names a grade held by 1 disc in 20, and would sit at chance.

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
    for name, model, balance in (("probe", linear, False), ("knn", knn, True)):
        predicted = _fold_predictions(model, x, y, folds, balance)
        scored = predicted >= 0
        scores[f"{name}_balanced_accuracy"] = float(
            balanced_accuracy_score(y[scored], predicted[scored])
        )
    return scores


def probe_encoder(
    encoder: torch.nn.Module,
    rois: np.ndarray,
    index: pd.DataFrame,
    device: torch.device,
    compromise: np.ndarray | None = None,
) -> dict[str, float]:
    """Probe ``encoder`` on the training and validation discs, cross-validated by study.

    With ``compromise`` (per ``index`` row, the phantom's visible canal compromise; NaN where
    unknown) also the out-of-fold R^2 of a ridge regression of it (``compromise_r2``). The test
    splits are never read.
    """
    rows = np.flatnonzero(index["split"].isin(PROBE_SPLITS).to_numpy())
    x = encode(encoder, rois, rows, device)
    groups = index["study_id"].to_numpy()[rows]
    scores = probe_scores(x, index["label"].to_numpy(dtype=int)[rows], groups)
    if compromise is not None:
        target = np.asarray(compromise, dtype=float)[rows]
        known = np.isfinite(target)
        scores["compromise_r2"] = (
            latent_probe_r2(x[known], target[known], groups[known]) if known.any() else np.nan
        )
    return scores


def probe_weights(
    encoder_params: dict,
    weights: dict | None,
    rois: np.ndarray,
    index: pd.DataFrame,
    device: torch.device,
    compromise: np.ndarray | None = None,
    seed: int = 0,
) -> dict[str, float]:
    """:func:`probe_encoder` on the encoder an ``encoder`` settings block builds, with
    ``weights`` loaded, or randomly initialised from ``seed`` when ``weights`` is None (the
    floor a pretraining has to clear: random convolutions keep some grade information)."""
    from disc_grade.models.components.networks import encoder_from_params

    torch.manual_seed(seed)
    encoder = encoder_from_params(encoder_params, in_channels=rois.shape[1])
    if weights is not None:
        encoder.load_state_dict(weights)
    return probe_encoder(encoder, rois, index, device, compromise)


def compromise_per_roi(index: pd.DataFrame, truth: pd.DataFrame | None) -> np.ndarray | None:
    """Per ``index`` row, the phantom truth's visible compromise of the ROI's condition (NaN where
    the truth has no row); None without a truth table (real data)."""
    if truth is None or truth.empty or "compromise" not in truth.columns:
        return None
    arrays = [index["study_id"].to_numpy(dtype=np.int64), index["level"].astype(str).to_numpy()]
    keyed = truth.set_index(["study_id", "level", "condition"])["compromise"]
    keys = pd.MultiIndex.from_arrays([*arrays, index["condition"].astype(str).to_numpy()])
    return keyed.reindex(keys).to_numpy(dtype=float)


def latent_probe_r2(
    x: np.ndarray, target: np.ndarray, groups: np.ndarray, n_folds: int = 5
) -> float:
    """Out-of-fold R^2 of a ridge regression of a continuous target (on the phantom, the visible
    canal compromise) on the frozen features, folds by study; 0 is the mean's score."""
    from sklearn.linear_model import RidgeCV
    from sklearn.metrics import r2_score
    from sklearn.model_selection import GroupKFold

    n_folds = min(n_folds, len(np.unique(groups)))
    if n_folds < 2 or np.ptp(target) == 0:
        return float("nan")
    model = make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-2, 4, 13)))
    predicted = np.empty(len(target))
    for fit_rows, held_rows in GroupKFold(n_splits=n_folds).split(x, target, groups):
        predicted[held_rows] = clone(model).fit(x[fit_rows], target[fit_rows]).predict(x[held_rows])
    return float(r2_score(target, predicted))
