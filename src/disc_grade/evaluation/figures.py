"""Figures a reviewer reads: confusion matrices, per-level bars, reliability, worst errors."""

from __future__ import annotations

import numpy as np
import pandas as pd

from disc_grade.evaluation.metrics import beliefs, confusion, expected_calibration_error
from disc_grade.plotting import plt
from disc_grade.rsna import LEVELS, SEVERITIES


def confusion_figure(predictions: pd.DataFrame, split: str = "test"):
    """Row-normalised confusion matrices of every variant side by side, counts in the cells."""
    variants = list(dict.fromkeys(predictions["variant"]))
    fig, axes = plt.subplots(1, len(variants), figsize=(4.3 * len(variants), 4.2), squeeze=False)
    for ax, variant in zip(axes[0], variants, strict=True):
        table = predictions[(predictions["variant"] == variant) & (predictions["split"] == split)]
        cm = confusion(table["label"], table["predicted"])
        with np.errstate(invalid="ignore"):
            rows = cm / cm.sum(axis=1, keepdims=True)
        ax.imshow(np.nan_to_num(rows), vmin=0, vmax=1, cmap="Blues")
        for i in range(3):
            for j in range(3):
                share = "" if np.isnan(rows[i, j]) else f"\n{rows[i, j]:.0%}"
                ax.text(
                    j,
                    i,
                    f"{cm[i, j]}{share}",
                    ha="center",
                    va="center",
                    fontsize=10,
                    color="white" if np.nan_to_num(rows[i, j]) > 0.6 else "black",
                )
        ax.set_xticks(range(3), SEVERITIES, fontsize=8)
        ax.set_yticks(range(3), SEVERITIES, fontsize=8)
        ax.set_xlabel("predicted")
        ax.set_ylabel("actual")
        ax.set_title(f"{variant} ({split}, n={len(table)})")
    fig.tight_layout()
    return fig


def per_level_figure(metrics: dict, split: str = "test"):
    """Balanced accuracy per lumbar level, one bar group per variant."""
    variants = list(metrics)
    fig, ax = plt.subplots(figsize=(8, 3.8))
    width = 0.8 / max(len(variants), 1)
    for i, variant in enumerate(variants):
        values = [metrics[variant].get(split, {}).get(f"balanced_accuracy_{lvl}") for lvl in LEVELS]
        values = [np.nan if v is None else v for v in values]
        ax.bar(np.arange(len(LEVELS)) + i * width - 0.4 + width / 2, values, width, label=variant)
    ax.set_xticks(range(len(LEVELS)), [lvl.upper().replace("_", "/") for lvl in LEVELS])
    ax.set_ylim(0, 1.2)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_ylabel("balanced accuracy")
    ax.set_title(f"Per-level balanced accuracy ({split})")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, ncol=len(variants), loc="upper center")
    fig.tight_layout()
    return fig


def reliability_figure(predictions: pd.DataFrame, split: str = "test", n_bins: int = 10):
    """Accuracy against confidence of the top class, per variant, with the diagonal: before
    calibration (the grader's own probabilities) and after (the calibrated posterior)."""
    held = predictions[predictions["split"] == split]
    panels = ["before calibration", "after calibration"]
    if beliefs(held)[0] is None:
        panels = panels[1:]
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4.6), squeeze=False)
    for ax, panel in zip(axes[0], panels, strict=True):
        ax.plot([0, 1], [0, 1], "--", color="grey", lw=1, label="perfect calibration")
        for variant, table in held.groupby("variant", sort=False):
            probs = beliefs(table)[0 if panel.startswith("before") else 1]
            ece, bins = expected_calibration_error(table["label"], probs, n_bins)
            used = bins[bins["count"] > 0]
            ax.plot(
                used["confidence"], used["accuracy"], marker="o", label=f"{variant} (ECE {ece:.3f})"
            )
        ax.set(
            xlabel="confidence (max probability)",
            ylabel="accuracy",
            xlim=(0, 1),
            ylim=(0, 1.02),
            title=f"Reliability ({split}), {panel}",
        )
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def worst_errors_figure(
    rois: np.ndarray, rows: pd.DataFrame, saliency: np.ndarray | None, title: str
):
    """ROIs (middle slice) of the worst errors with their saliency overlaid, or a note when none."""
    n = len(rows)
    if n == 0:
        fig, ax = plt.subplots(figsize=(6, 1.4))
        ax.axis("off")
        ax.text(0.5, 0.5, f"{title}: none", ha="center", va="center", fontsize=11)
        return fig
    cols = min(n, 4)
    grid_rows = -(-n // cols)
    fig, axes = plt.subplots(
        grid_rows, cols, figsize=(2.6 * cols, 2.9 * grid_rows + 0.4), squeeze=False
    )
    for ax in axes.ravel():
        ax.axis("off")
    mid = rois.shape[1] // 2
    for k, (ax, (_, row)) in enumerate(zip(axes.ravel(), rows.iterrows(), strict=False)):
        ax.imshow(np.asarray(rois[k, mid], dtype=np.float32), cmap="gray", vmin=0, vmax=1)
        if saliency is not None:
            ax.imshow(saliency[k], cmap="jet", alpha=0.35, vmin=0, vmax=1)
        graded = SEVERITIES[int(row["predicted"])]
        ax.set_title(
            f"{row['variant']} {row['level'].upper().replace('_', '/')}\n"
            f"graded {graded}, P(Severe)={row['p_severe']:.2f}",
            fontsize=8,
        )
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
