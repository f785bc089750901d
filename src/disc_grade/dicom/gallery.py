"""Gallery of disc ROIs by severity (middle channel), for reviewers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from disc_grade.plotting import plt
from disc_grade.rsna import SEVERITIES


def roi_gallery(rois: np.ndarray, index: pd.DataFrame, per_class: int = 8, seed: int = 0):
    """Rows of ROIs per severity with the labelled point marked."""
    rng = np.random.default_rng(seed)
    fig, axes = plt.subplots(
        len(SEVERITIES), per_class, figsize=(1.6 * per_class, 1.8 * len(SEVERITIES)), squeeze=False
    )
    mid = rois.shape[1] // 2 if rois.ndim == 4 else 0
    for label, text in enumerate(SEVERITIES):
        rows = index.index[index["label"] == label].to_numpy()
        chosen = (
            rng.choice(rows, size=min(per_class, len(rows)), replace=False) if len(rows) else []
        )
        for j in range(per_class):
            ax = axes[label, j]
            ax.axis("off")
            if j < len(chosen):
                i = int(chosen[j])
                ax.imshow(np.asarray(rois[i, mid], dtype=np.float32), cmap="gray", vmin=0, vmax=1)
                ax.plot(index.at[i, "point_x"], index.at[i, "point_y"], "+", color="#d62728", ms=8)
                ax.set_title(f"{index.at[i, 'level_name']}", fontsize=7)
        axes[label, 0].text(
            -0.15,
            0.5,
            f"{text}\n(n={len(rows)})",
            transform=axes[label, 0].transAxes,
            ha="right",
            va="center",
            fontsize=9,
        )
    fig.suptitle("Disc ROIs by severity (middle slice; + = labelled canal point)", fontsize=10)
    fig.tight_layout(rect=(0.06, 0, 1, 0.95))
    return fig
