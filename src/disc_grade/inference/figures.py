"""Per-study inference figure: the canal on sagittal T2, the foramina on sagittal T1 and the
recesses on axial T2, each with its points and grades."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from disc_grade.dicom.pixels import read_pixels
from disc_grade.plotting import SEVERITY_COLOURS, UNGRADED_COLOUR, plt

COLOURS = {**SEVERITY_COLOURS, "": UNGRADED_COLOUR}


def shown_slice(located: pd.DataFrame) -> tuple[int, int]:
    """(series_id, slice_rank) of the slice holding most of the points, the lowest rank on a
    tie: the foramina of one side may lie on several slices."""
    counts = located.groupby(["series_id", "slice_rank"]).size()
    series_id, rank = max(counts.index, key=lambda k: (counts[k], -k[1]))
    return int(series_id), int(rank)


def _panel(ax, root: Path, rows: pd.DataFrame, series: pd.DataFrame, title: str) -> None:
    """One slice with the markers of ``rows`` (all on that slice), or a note when none is placed."""
    study_id = int(rows["study_id"].iloc[0]) if len(rows) else None
    located = rows.dropna(subset=["series_id", "slice_rank"])
    ax.axis("off")
    if located.empty:
        flag = rows["flag"].dropna().iloc[0] if rows["flag"].notna().any() else "not graded"
        ax.text(0.5, 0.5, f"{title}\nnot graded:\n{flag}", ha="center", va="center", fontsize=8)
        return
    series_id, rank = shown_slice(located)
    same_series = located["series_id"] == series_id
    here = same_series & (located["slice_rank"] == rank)
    elsewhere = located[same_series & ~here]
    located = located[here]
    order = series[(series["study_id"] == study_id) & (series["series_id"] == series_id)][
        "instances_in_order"
    ].iloc[0]
    ax.imshow(
        read_pixels(Path(root) / str(study_id) / str(series_id) / f"{order[rank]}.dcm"), cmap="gray"
    )
    _markers(ax, located, axial="axial" in title)
    _markers(ax, elsewhere, axial="axial" in title, here=False)
    ax.set_title(f"{title}\nseries {series_id}, slice {rank + 1}/{len(order)}", fontsize=8)


def _markers(ax, located: pd.DataFrame, axial: bool = False, here: bool = True) -> None:
    """Filled markers for points on the slice shown; hollow ones, with their own slice named,
    for points of the same series found on another slice."""
    for row in located.itertuples():
        colour = COLOURS.get(row.grade, COLOURS[""])
        ax.scatter(
            [row.x],
            [row.y],
            s=36,
            c=colour if here else "none",
            edgecolors="white" if here else colour,
            linewidths=0.7 if here else 1.2,
        )
        condition = getattr(row, "condition", "spinal")
        side = {"left": " L", "right": " R"}.get(str(condition).split("_")[0], "")
        name = f"{row.level_name}{side}"
        text = f"{name} {row.grade} ({row.p_severe:.2f})" if row.graded else f"{name} not graded"
        if not here:
            text += f" [slice {int(row.slice_rank) + 1}]"
        # on an axial slice both sides sit close together: the patient's left (image right)
        # is labelled above and to the right, the right below and to the left
        offset, align = {" L": ((8, 10), "left"), " R": ((-8, -10), "right")}.get(
            side if axial else "", ((10, 0), "left")
        )
        ax.annotate(
            text,
            (row.x, row.y),
            xytext=offset,
            textcoords="offset points",
            color=colour,
            fontsize=8 if not axial else 7,
            va="center",
            ha=align,
            bbox={"facecolor": "black", "alpha": 0.4, "pad": 1, "edgecolor": "none"},
        )


def study_figure(root: Path, rows: pd.DataFrame, series: pd.DataFrame):
    """All of a study's targets: the canal (sagittal T2), each side's foramina (sagittal T1) and
    the recesses of each level (axial T2); a panel says why when nothing could be placed."""
    condition = rows["condition"] if "condition" in rows else pd.Series("spinal", rows.index)
    fig = plt.figure(figsize=(15, 9))
    grid = fig.add_gridspec(2, 15, height_ratios=[1.6, 1])
    top = [fig.add_subplot(grid[0, 5 * k : 5 * (k + 1)]) for k in range(3)]
    _panel(top[0], root, rows[condition.str.startswith("spinal")], series, "canal, sagittal T2")
    for ax, side in zip(top[1:], ("left", "right"), strict=True):
        own = rows[condition == f"{side}_neural_foraminal_narrowing"]
        _panel(ax, root, own, series, f"{side} foramina, sagittal T1")
    recesses = rows[condition.str.contains("subarticular")]
    for k, (_, own) in enumerate(recesses.groupby("level", sort=True)):
        if k < 5:
            ax = fig.add_subplot(grid[1, 3 * k : 3 * (k + 1)])
            _panel(ax, root, own, series, f"recesses {own['level_name'].iloc[0]}, axial T2")
    fig.suptitle(
        f"study {int(rows['study_id'].iloc[0])}: grade (P(Severe)) per target", fontsize=10
    )
    fig.tight_layout()
    return fig
