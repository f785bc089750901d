"""Per-study inference figure: the chosen sagittal slice with the canal points and grades."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from disc_grade.dicom.pixels import read_pixels
from disc_grade.plotting import SEVERITY_COLOURS, UNGRADED_COLOUR, plt

COLOURS = {**SEVERITY_COLOURS, "": UNGRADED_COLOUR}


def study_figure(root: Path, rows: pd.DataFrame, series: pd.DataFrame):
    """The study's chosen slice with a marker and label per graded level, or a note when none."""
    fig, ax = plt.subplots(figsize=(5.5, 6))
    study_id = int(rows["study_id"].iloc[0])
    located = rows.dropna(subset=["series_id", "slice_rank"])
    if located.empty:
        ax.axis("off")
        ax.text(
            0.5,
            0.5,
            f"study {study_id}: not graded\n{rows['flag'].iloc[0]}",
            ha="center",
            va="center",
        )
        return fig
    series_id, rank = int(located["series_id"].iloc[0]), int(located["slice_rank"].iloc[0])
    order = series[(series["study_id"] == study_id) & (series["series_id"] == series_id)][
        "instances_in_order"
    ].iloc[0]
    ax.imshow(
        read_pixels(Path(root) / str(study_id) / str(series_id) / f"{order[rank]}.dcm"), cmap="gray"
    )
    for row in located.itertuples():
        colour = COLOURS.get(row.grade, COLOURS[""])
        ax.scatter([row.x], [row.y], s=36, c=colour, edgecolors="white", linewidths=0.7)
        text = (
            f"{row.level_name} {row.grade} ({row.p_severe:.2f})"
            if row.graded
            else f"{row.level_name} not graded"
        )
        ax.annotate(
            text,
            (row.x, row.y),
            xytext=(10, 0),
            textcoords="offset points",
            color=colour,
            fontsize=8,
            va="center",
            bbox={"facecolor": "black", "alpha": 0.4, "pad": 1, "edgecolor": "none"},
        )
    ax.set_title(
        f"study {study_id}, series {series_id}, slice {rank + 1}/{len(order)}\n(P(Severe) in brackets)",
        fontsize=9,
    )
    ax.axis("off")
    fig.tight_layout()
    return fig
