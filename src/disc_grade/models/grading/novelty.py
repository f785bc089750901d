"""A warning when a study is unlike the training data: how far its features lie from the
training studies'.

Per condition, each study is summarised twice by the mean over its targets: of the chosen
grader's encoder features and logits, and of its crops' image statistics (noise, sharpness,
contrast, slice spacing: ``models.grading.image_statistics``, where the features table has them).
The training split's study summaries define a Gaussian in a few principal components (shrunk
covariance, Ledoit-Wolf) for each; a study's distance there (Mahalanobis) is divided by the
training studies' median distance, so both summaries speak on one scale, and its novelty is the
largest over its conditions and both summaries. The threshold is one of the validation studies'
novelties (in-site, never trained on): the lowest whose share of in-site studies above it stays
under ``false_rate`` with probability ``confidence`` over the validation studies drawn (the share
above the k-th smallest of n exchangeable scores is Beta(n + 1 - k, k); ``threshold_rank``). So
at most ``false_rate`` of in-site studies are flagged by chance, with that confidence, however few
validation studies there are; a scanner the training never saw should be flagged far more often.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from disc_grade.models.grading.image_statistics import STATISTICS

IMAGE = "/image"  # the suffix of a condition's image-statistics entry


def summary_columns(table: pd.DataFrame, kind: str) -> list[str]:
    """The columns a summary reads: the grader's features (``f0`` ..) or the image statistics."""
    if kind == IMAGE:
        return [c for c in STATISTICS if c in table]
    return [c for c in table.columns if c.startswith("f") and c[1:].isdigit()]


def study_means(table: pd.DataFrame, kind: str = "") -> tuple[np.ndarray, pd.DataFrame]:
    """[studies, F] the mean of each study's targets' features (``kind`` ``IMAGE``: image
    statistics; NaN rows left out), and each study's row (``study_id`` and, where known,
    ``split``)."""
    columns = summary_columns(table, kind)
    table = table[np.isfinite(table[columns].to_numpy(dtype=float)).all(axis=1)]
    x = table[columns].to_numpy(dtype=np.float64)
    keys = [c for c in ("study_id", "split") if c in table]
    groups = table[keys].reset_index(drop=True)
    frame = pd.DataFrame(x).assign(**{k: groups[k].to_numpy() for k in keys})
    means = frame.groupby(keys, sort=True).mean()
    return means.to_numpy(dtype=float), means.index.to_frame(index=False)


def fit_gaussian(x: np.ndarray, n_components: int) -> dict:
    """Mean, principal axes and the inverse of a shrunk covariance of ``x`` [n, F]."""
    from sklearn.covariance import LedoitWolf

    mean = x.mean(axis=0)
    centred = x - mean
    k = max(1, min(n_components, len(x) - 1, x.shape[1]))
    _, _, axes = np.linalg.svd(centred, full_matrices=False)
    axes = axes[:k]
    covariance = LedoitWolf().fit(centred @ axes.T).covariance_
    model = {"mean": mean, "axes": axes, "precision": np.linalg.inv(covariance), "scale": 1.0}
    model["scale"] = float(np.median(distances(model, x))) or 1.0
    return model


def distances(model: dict, x: np.ndarray) -> np.ndarray:
    """[n] Mahalanobis distance of each row of ``x`` from the fitted Gaussian, over the training
    rows' median distance."""
    z = (np.asarray(x, dtype=float) - model["mean"]) @ model["axes"].T
    scale = float(model.get("scale", 1.0))
    return np.sqrt(np.einsum("ij,jk,ik->i", z, model["precision"], z)) / scale


def threshold_rank(n: int, false_rate: float, confidence: float) -> tuple[int, float]:
    """The smallest k (1-based) such that the share of in-site studies above the k-th smallest of
    ``n`` validation novelties exceeds ``false_rate`` with probability at most ``1 - confidence``,
    and the confidence reached. Too few studies for ``confidence``: the largest (k = n), with the
    lower confidence it reaches."""
    from scipy.stats import beta

    for k in range(1, n + 1):
        reached = 1.0 - float(beta.sf(false_rate, n + 1 - k, k))
        if reached >= confidence:
            return k, reached
    return n, 1.0 - float(beta.sf(false_rate, 1, n))


def _checked(false_rate: float, confidence: float) -> None:
    for name, value in (("false_rate", false_rate), ("confidence", confidence)):
        if not 0 < value < 1:
            raise ValueError(f"novelty.{name} must be in (0, 1), got {value}")


def fit_novelty(
    tables: dict[str, pd.DataFrame], n_components: int, false_rate: float, confidence: float
) -> dict:
    """Per condition a Gaussian of the training studies' summaries, and the threshold: the
    validation novelty of rank ``threshold_rank`` (kept in the bundle's ``rule``).

    Raises:
        ValueError: ``false_rate`` or ``confidence`` outside (0, 1), or no condition with
            training and validation studies.
    """
    _checked(false_rate, confidence)
    models = {}
    for name, table in tables.items():
        for kind in ("", IMAGE):
            if table.empty or not summary_columns(table, kind):
                continue
            x, studies = study_means(table, kind)
            train = studies["split"].astype(str).to_numpy() == "train"
            if train.sum() >= 3:
                models[name + kind] = fit_gaussian(x[train], n_components)
    bundle = {"conditions": models, "threshold": float("inf")}
    scores = novelty(bundle, tables)
    validation = np.sort(scores[scores["split"].astype(str) == "validation"]["novelty"])
    if not models or not len(validation):
        raise ValueError("novelty: needs a condition with training and validation studies")
    rank, reached = threshold_rank(len(validation), false_rate, confidence)
    bundle["threshold"] = float(validation[rank - 1])
    bundle["rule"] = {
        "false_rate": false_rate,
        "confidence": confidence,
        "confidence_reached": reached,
        "rank": rank,
        "n_validation": len(validation),
    }
    return bundle


def novelty(bundle: dict, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per study its novelty (the largest distance over its conditions), whether it passes the
    threshold (``unlike_training``), and its ``split`` where the tables know it."""
    parts = []
    for key, model in bundle["conditions"].items():
        name, kind = (key.removesuffix(IMAGE), IMAGE) if key.endswith(IMAGE) else (key, "")
        table = tables.get(name)
        if table is None or table.empty or not summary_columns(table, kind):
            continue
        x, studies = study_means(table, kind)
        parts.append(studies.assign(novelty=distances(model, x)))
    if not parts:
        return pd.DataFrame(columns=["study_id", "split", "novelty", "unlike_training"])
    keys = [c for c in ("study_id", "split") if c in parts[0]]
    scores = pd.concat(parts).groupby(keys, as_index=False)["novelty"].max()
    return scores.assign(unlike_training=scores["novelty"] > bundle["threshold"])


def as_tensors(bundle: dict) -> dict:
    """The bundle with its arrays as tensors (a ``weights_only`` checkpoint holds no arrays)."""
    import torch

    return {
        "threshold": float(bundle["threshold"]),
        "conditions": {
            name: {k: torch.as_tensor(np.asarray(v, dtype=np.float64)) for k, v in m.items()}
            for name, m in bundle["conditions"].items()
        },
    }


def from_tensors(bundle: dict) -> dict:
    """The inverse of ``as_tensors``."""
    return {
        "threshold": float(bundle["threshold"]),
        "conditions": {
            name: {k: np.asarray(v, dtype=float) for k, v in m.items()}
            for name, m in bundle["conditions"].items()
        },
    }


def flag_rates(scores: pd.DataFrame) -> dict[str, dict]:
    """Per split the studies scored and the share flagged unlike the training data."""
    return {
        str(split): {"n_studies": int(len(rows)), "flagged": float(rows["unlike_training"].mean())}
        for split, rows in scores.groupby("split")
    }
