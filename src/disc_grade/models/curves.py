"""Training-curve figures."""

from __future__ import annotations

import pandas as pd

from disc_grade.plotting import plt


def curve_figure(curves: dict[str, pd.DataFrame], title: str):
    """Loss (and validation balanced accuracy where present) per epoch, one line per run."""
    has_val = any("val_balanced_accuracy" in c for c in curves.values())
    fig, axes = plt.subplots(
        1, 2 if has_val else 1, figsize=(10 if has_val else 5, 3.6), squeeze=False
    )
    for name, curve in curves.items():
        axes[0, 0].plot(curve["epoch"], curve["train_loss"], marker=".", label=name)
        if has_val and "val_balanced_accuracy" in curve:
            axes[0, 1].plot(curve["epoch"], curve["val_balanced_accuracy"], marker=".", label=name)
    axes[0, 0].set(xlabel="epoch", ylabel="training loss", title="loss")
    if has_val:
        axes[0, 1].set(xlabel="epoch", ylabel="balanced accuracy", title="validation", ylim=(0, 1))
    for ax in axes.ravel():
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig
