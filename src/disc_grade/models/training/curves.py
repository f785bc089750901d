"""Training-curve figures."""

from __future__ import annotations

import pandas as pd

from disc_grade.plotting import plt

# validation figures a curve may hold, and how the right-hand panel labels them
SCORES = {
    "val_balanced_accuracy": "validation",
    "probe_balanced_accuracy": "linear probe (cross-validated)",
    "knn_balanced_accuracy": "kNN (cross-validated)",
}


def curve_figure(curves: dict[str, pd.DataFrame], title: str):
    """Loss per epoch, and beside it every validation balanced accuracy a curve holds.

    Probes that ran every few epochs are drawn at the epochs they ran; chance (1/3) is marked.
    """
    has_scores = any(column in c for c in curves.values() for column in SCORES)
    fig, axes = plt.subplots(
        1, 2 if has_scores else 1, figsize=(10 if has_scores else 5, 3.6), squeeze=False
    )
    for name, curve in curves.items():
        axes[0, 0].plot(curve["epoch"], curve["train_loss"], marker=".", label=name)
        for column, what in SCORES.items():
            if has_scores and column in curve:
                points = curve[["epoch", column]].dropna()
                label = name if len(SCORES) == 1 or column == "val_balanced_accuracy" else what
                axes[0, 1].plot(points["epoch"], points[column], marker="o", label=label)
    axes[0, 0].set(xlabel="epoch", ylabel="training loss", title="loss")
    if has_scores:
        axes[0, 1].axhline(1 / 3, color="grey", lw=0.8, ls=":", label="chance")
        axes[0, 1].set(xlabel="epoch", ylabel="balanced accuracy", title="validation", ylim=(0, 1))
    for ax in axes.ravel():
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig
