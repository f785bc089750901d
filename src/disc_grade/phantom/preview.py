"""Preview figure of a cohort: mid sagittal T2 slices with the labelled canal points."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pydicom

from disc_grade.plotting import SEVERITY_COLOURS, UNGRADED_COLOUR, plt
from disc_grade.rsna import CONDITION_NAMES, LEVEL_FROM_NAME, SPINAL, label_column


def preview_figure(root: Path, coordinates: pd.DataFrame, train: pd.DataFrame, n_studies: int = 6):
    """Mid sagittal T2 slice of the first studies with spinal points coloured by severity."""
    spinal = coordinates[coordinates["condition"] == CONDITION_NAMES[SPINAL]]
    studies = list(dict.fromkeys(spinal["study_id"]))[:n_studies]
    labels = train.set_index("study_id")
    cols = min(3, max(1, len(studies)))
    rows = max(1, -(-len(studies) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 4.6 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, study_id in zip(axes.ravel(), studies, strict=False):
        points = spinal[spinal["study_id"] == study_id]
        series_id, instance = points.iloc[0][["series_id", "instance_number"]]
        ds = pydicom.dcmread(root / str(study_id) / str(series_id) / f"{instance}.dcm")
        ax.imshow(ds.pixel_array, cmap="gray")
        for _, p in points.iterrows():
            column = label_column(SPINAL, LEVEL_FROM_NAME[p["level"]])
            severity = labels.loc[study_id, column]
            colour = SEVERITY_COLOURS.get(severity, UNGRADED_COLOUR)
            ax.scatter([p["x"]], [p["y"]], s=30, c=colour, edgecolors="white", linewidths=0.6)
            ax.annotate(
                f"{p['level']} {severity}",
                (p["x"], p["y"]),
                xytext=(8, 0),
                textcoords="offset points",
                color=colour,
                fontsize=7,
                va="center",
            )
        ax.set_title(f"study {study_id} (instance {instance})", fontsize=9)
    fig.suptitle("Phantom cohort: mid sagittal T2 with labelled canal points", fontsize=11)
    fig.tight_layout()
    return fig
