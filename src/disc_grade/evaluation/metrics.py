"""Every figure the evaluation reports, as small pure functions of labels and probabilities.

Classes are 0 Normal/Mild, 1 Moderate, 2 Severe. Undefined values (a class absent from the
truth, no Severe disc) are NaN, never a silent 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from disc_grade.evaluation.localisation import localisation_error
from disc_grade.evaluation.log_loss import posterior_of_submission, weighted_log_loss
from disc_grade.evaluation.rsna_score import any_severe_spinal_loss
from disc_grade.rsna import PROB_COLUMNS, RAW_PROB_COLUMNS, SEVERITY_KEYS, SPINAL

N_CLASSES = 3


def beliefs(table: pd.DataFrame) -> tuple[np.ndarray | None, np.ndarray]:
    """What the grader believes of each grade: before calibration (None for a table that was not
    calibrated) and after (the posterior behind the submitted ``PROB_COLUMNS``, which weigh it
    by the metric's 1/2/4)."""
    submitted = table[PROB_COLUMNS].to_numpy(dtype=float)
    if RAW_PROB_COLUMNS[0] not in table.columns:
        return None, submitted
    return table[RAW_PROB_COLUMNS].to_numpy(dtype=float), posterior_of_submission(submitted)


def confusion(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int = N_CLASSES) -> np.ndarray:
    """[true, predicted] counts."""
    out = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(out, (np.asarray(y_true, dtype=int), np.asarray(y_pred, dtype=int)), 1)
    return out


def recalls(cm: np.ndarray) -> np.ndarray:
    """Per-class recall; NaN for a class with no true member."""
    support = cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(support > 0, np.diag(cm) / support, np.nan)


def precisions(cm: np.ndarray) -> np.ndarray:
    """Per-class precision; NaN for a class never predicted."""
    predicted = cm.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(predicted > 0, np.diag(cm) / predicted, np.nan)


def balanced_accuracy(cm: np.ndarray) -> float:
    """Mean recall over the classes present in the truth (scikit-learn's definition)."""
    r = recalls(cm)
    return float(np.nanmean(r)) if np.isfinite(r).any() else float("nan")


def severe_to_normal(cm: np.ndarray) -> tuple[float, int]:
    """(share of truly Severe discs predicted Normal/Mild, their count); NaN rate without Severe discs."""
    severe = int(cm[2].sum())
    count = int(cm[2, 0])
    return (count / severe if severe else float("nan")), count


def macro_f1(cm: np.ndarray) -> float:
    """Unweighted mean F1 over the three classes; a class with no true and no predicted member scores 0."""
    tp = np.diag(cm).astype(float)
    denominator = cm.sum(axis=0) + cm.sum(axis=1)
    f1 = np.where(denominator > 0, 2 * tp / np.maximum(denominator, 1), 0.0)
    return float(f1.mean())


def quadratic_weighted_kappa(cm: np.ndarray) -> float:
    """Cohen's kappa with quadratic weights (ordinal agreement); NaN when undefined."""
    n = cm.sum()
    if n == 0:
        return float("nan")
    k = cm.shape[0]
    weights = (np.subtract.outer(np.arange(k), np.arange(k)) ** 2) / (k - 1) ** 2
    expected = np.outer(cm.sum(axis=1), cm.sum(axis=0)) / n
    denominator = (weights * expected).sum()
    return float(1 - (weights * cm).sum() / denominator) if denominator > 0 else float("nan")


def expected_calibration_error(
    y_true: np.ndarray, probs: np.ndarray, n_bins: int = 10
) -> tuple[float, pd.DataFrame]:
    """ECE of the top-class confidence over equal-width bins, with the per-bin table."""
    probs = np.asarray(probs, dtype=float)
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == np.asarray(y_true, dtype=int)
    edges = np.linspace(0, 1, n_bins + 1)
    bins = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, n_bins - 1)
    rows = []
    ece = 0.0
    for b in range(n_bins):
        inside = bins == b
        n = int(inside.sum())
        acc = float(correct[inside].mean()) if n else float("nan")
        conf = float(confidence[inside].mean()) if n else float("nan")
        if n:
            ece += n / len(confidence) * abs(acc - conf)
        rows.append(
            {
                "bin_low": edges[b],
                "bin_high": edges[b + 1],
                "count": n,
                "accuracy": acc,
                "confidence": conf,
            }
        )
    return (float(ece) if len(confidence) else float("nan")), pd.DataFrame(rows)


def balanced_accuracies(cms: np.ndarray) -> np.ndarray:
    """[R] the balanced accuracy of each of R confusion matrices [R, 3, 3], as
    ``balanced_accuracy`` computes one."""
    support = cms.sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.where(support > 0, np.diagonal(cms, axis1=1, axis2=2) / support, np.nan)
        return np.nanmean(recall, axis=1)


def study_counts(n_studies: int, n_resamples: int, seed: int) -> np.ndarray:
    """[R, n_studies] multinomial counts: how often each study is drawn in each resample."""
    rng = np.random.default_rng(seed)
    return rng.multinomial(n_studies, np.full(n_studies, 1 / n_studies), size=n_resamples)


def interval(values: np.ndarray, level: float) -> tuple[float, float]:
    """The central ``level`` percentile interval of the finite ``values`` (NaN without any)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if not len(values):
        return float("nan"), float("nan")
    tail = (1 - level) / 2 * 100
    return float(np.percentile(values, tail)), float(np.percentile(values, 100 - tail))


def per_study_confusions(study_index, labels, predicted, n_studies: int) -> np.ndarray:
    """[n_studies, 9] each study's confusion matrix, flattened (true grade major)."""
    out = np.zeros((n_studies, N_CLASSES * N_CLASSES))
    cells = np.asarray(labels, dtype=int) * N_CLASSES + np.asarray(predicted, dtype=int)
    np.add.at(out, (study_index, cells), 1)
    return out


def bootstrap_by_study(
    table: pd.DataFrame, n_resamples: int = 1000, seed: int = 0, level: float = 0.95
) -> dict[str, tuple[float, float]]:
    """Percentile intervals of balanced accuracy and severe-to-normal rate, resampling studies.

    Per-study confusion matrices are summed with multinomial study counts, so 1,000 resamples of
    10,000 discs take a fraction of a second.
    """
    studies, study_index = np.unique(table["study_id"].to_numpy(), return_inverse=True)
    per_study = per_study_confusions(study_index, table["label"], table["predicted"], len(studies))
    counts = study_counts(len(studies), n_resamples, seed)
    cms = (counts @ per_study).reshape(n_resamples, N_CLASSES, N_CLASSES)
    support = cms.sum(axis=2)
    ba = balanced_accuracies(cms)
    with np.errstate(invalid="ignore", divide="ignore"):
        s2n = np.where(support[:, 2] > 0, cms[:, 2, 0] / support[:, 2], np.nan)
    return {"balanced_accuracy": interval(ba, level), "severe_to_normal_rate": interval(s2n, level)}


def evaluate_split(
    table: pd.DataFrame, n_resamples: int = 1000, seed: int = 0, n_bins: int = 10
) -> dict:
    """All figures for one variant on one split of any condition, as plain numbers.

    Both sides of a sided condition are pooled, as the competition pools them; each side
    (``condition``) also gets its balanced accuracy with a study-resampled interval. The log
    loss is the competition's (sample weights 1/2/4 by true class); for the canal also its
    any-severe-spinal term (``rsna_score.any_severe_spinal_loss``).
    """
    y = table["label"].to_numpy(dtype=int)
    pred = table["predicted"].to_numpy(dtype=int)
    cm = confusion(y, pred)
    rate, count = severe_to_normal(cm)
    probs = table[PROB_COLUMNS].to_numpy(dtype=float)
    raw, posterior = beliefs(table)
    ece, _ = expected_calibration_error(y, posterior, n_bins)
    intervals = bootstrap_by_study(table, n_resamples, seed)
    out = {
        "n_discs": int(len(table)),
        "n_studies": int(table["study_id"].nunique()),
        "balanced_accuracy": balanced_accuracy(cm),
        "balanced_accuracy_ci_low": intervals["balanced_accuracy"][0],
        "balanced_accuracy_ci_high": intervals["balanced_accuracy"][1],
        "severe_to_normal_rate": rate,
        "severe_to_normal_count": count,
        "severe_to_normal_rate_ci_low": intervals["severe_to_normal_rate"][0],
        "severe_to_normal_rate_ci_high": intervals["severe_to_normal_rate"][1],
        "macro_f1": macro_f1(cm),
        "quadratic_weighted_kappa": quadratic_weighted_kappa(cm),
        "log_loss": weighted_log_loss(y, probs),
        "expected_calibration_error": ece,
        **localisation_error(table),
    }
    if raw is not None:  # the same figures before calibration
        out["balanced_accuracy_uncalibrated"] = balanced_accuracy(
            confusion(y, table["raw_predicted"])
        )
        out["log_loss_uncalibrated"] = weighted_log_loss(y, raw)
        out["expected_calibration_error_uncalibrated"] = expected_calibration_error(y, raw, n_bins)[
            0
        ]
    for name, r, p in zip(SEVERITY_KEYS, recalls(cm), precisions(cm), strict=True):
        out[f"recall_{name}"], out[f"precision_{name}"] = float(r), float(p)
    short = ("normal", "moderate", "severe")
    for i, true in enumerate(short):  # the 3x3 confusion matrix as plain numbers (dvc metrics show)
        for j, pred in enumerate(short):
            out[f"confusion_{true}_as_{pred}"] = int(cm[i, j])
    for level, group in table.groupby("level", sort=True):
        out[f"balanced_accuracy_{level}"] = balanced_accuracy(
            confusion(group["label"], group["predicted"])
        )
    conditions = table["condition"]
    if (conditions == SPINAL).all():
        out["any_severe_spinal_log_loss"] = any_severe_spinal_loss(table)
    if conditions.nunique() > 1:
        for condition, rows in table.groupby(conditions, sort=True):
            low, high = bootstrap_by_study(rows, n_resamples, seed)["balanced_accuracy"]
            side = confusion(rows["label"], rows["predicted"])
            out[f"balanced_accuracy_{condition}"] = balanced_accuracy(side)
            out[f"balanced_accuracy_{condition}_ci_low"] = low
            out[f"balanced_accuracy_{condition}_ci_high"] = high
    return out
