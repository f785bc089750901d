"""Per-study inference figure: a panel per slice each condition is read on (from its spec), each
with its points and grades: the canal's sagittal slice, each side's foramina, each level's
recesses."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from disc_grade.conditions import SPECS, spec_of_condition
from disc_grade.dicom.pixels import read_pixels
from disc_grade.plotting import SEVERITY_COLOURS, UNGRADED_COLOUR, plt
from disc_grade.rsna import LEVEL_NAMES, LEVELS

COLOURS = {**SEVERITY_COLOURS, "": UNGRADED_COLOUR}
SIDE_MARKS = {"left": " L", "right": " R"}


@dataclass(frozen=True)
class Panel:
    """One panel of the figure: its title, its targets and whether it shows an axial slice."""

    title: str
    rows: pd.DataFrame
    axial: bool


def panels(rows: pd.DataFrame) -> list[Panel]:
    """The panels of a study's targets, by the conditions' specs: one for a condition read on one
    sagittal slice (the canal), one per side for a sided sagittal one (the foramina), one per
    level for an axial one (the recesses), every level drawn."""
    out = []
    for spec in SPECS.values():
        own = rows[rows["condition"].isin(spec.conditions)]
        where = f"{spec.series}"
        if spec.needs_levels:
            out += [
                Panel(f"{spec.short} {LEVEL_NAMES[lv]}, {where}", own[own["level"] == lv], True)
                for lv in LEVELS
            ]
        elif spec.sided:
            out += [
                Panel(
                    f"{spec.side_of_condition(c)} {spec.short}, {where}",
                    own[own["condition"] == c],
                    False,
                )
                for c in spec.conditions
            ]
        else:
            out.append(Panel(f"{spec.short}, {where}", own, False))
    return out


def shown_slice(located: pd.DataFrame) -> tuple[int, int]:
    """(series_id, slice_rank) of the slice holding most of the points, the lowest rank on a
    tie: the foramina of one side may lie on several slices."""
    counts = located.groupby(["series_id", "slice_rank"]).size()
    series_id, rank = max(counts.index, key=lambda k: (counts[k], -k[1]))
    return int(series_id), int(rank)


def _draw_panel(ax, root: Path, panel: Panel, series: pd.DataFrame) -> None:
    """One slice with the markers of the panel's rows, or a note when none is placed."""
    rows, title = panel.rows, panel.title
    ax.axis("off")
    located = rows.dropna(subset=["series_id", "slice_rank"])
    if located.empty:
        flag = rows["flag"].dropna().iloc[0] if rows["flag"].notna().any() else "not graded"
        ax.text(0.5, 0.5, f"{title}\nnot graded:\n{flag}", ha="center", va="center", fontsize=8)
        return
    study_id = int(rows["study_id"].iloc[0])
    series_id, rank = shown_slice(located)
    same_series = located["series_id"] == series_id
    here = same_series & (located["slice_rank"] == rank)
    own = series[(series["study_id"] == study_id) & (series["series_id"] == series_id)]
    order = own["instances_in_order"].iloc[0]
    path = Path(root) / str(study_id) / str(series_id) / f"{order[rank]}.dcm"
    ax.imshow(read_pixels(path), cmap="gray")
    _markers(ax, located[here], panel.axial)
    _markers(ax, located[same_series & ~here], panel.axial, here=False)
    ax.set_title(f"{title}\nseries {series_id}, slice {rank + 1}/{len(order)}", fontsize=8)


def _label(row, here: bool) -> str:
    side = SIDE_MARKS.get(spec_of_condition(row.condition).side_of_condition(row.condition), "")
    doubt = "?" if bool(getattr(row, "level_uncertain", False)) else ""  # level in doubt
    name = f"{row.level_name}{doubt}{side}"
    text = f"{name} {row.grade} ({row.p_severe:.2f})" if row.graded else f"{name} not graded"
    return text if here else text + f" [slice {int(row.slice_rank) + 1}]"


def _markers(ax, located: pd.DataFrame, axial: bool, here: bool = True) -> None:
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
        # on an axial slice both sides sit close together: the patient's left (image right)
        # is labelled above and to the right, the right below and to the left
        side = spec_of_condition(row.condition).side_of_condition(row.condition)
        offset, align = ((10, 0), "left")
        if axial and side in SIDE_MARKS:
            offset, align = ((8, 10), "left") if side == "left" else ((-8, -10), "right")
        ax.annotate(
            _label(row, here),
            (row.x, row.y),
            xytext=offset,
            textcoords="offset points",
            color=colour,
            fontsize=7 if axial else 8,
            va="center",
            ha=align,
            bbox={"facecolor": "black", "alpha": 0.4, "pad": 1, "edgecolor": "none"},
        )


def study_figure(root: Path, rows: pd.DataFrame, series: pd.DataFrame):
    """All of a study's targets: the sagittal panels on the top row, the axial ones below; a
    panel says why when nothing could be placed."""
    laid = panels(rows)
    top = [p for p in laid if not p.axial]
    bottom = [p for p in laid if p.axial]
    fig = plt.figure(figsize=(15, 9))
    columns = max(len(top), 1) * max(len(bottom), 1)
    grid = fig.add_gridspec(2, columns, height_ratios=[1.6, 1])
    for row, row_panels in ((0, top), (1, bottom)):
        span = columns // max(len(row_panels), 1)
        for k, panel in enumerate(row_panels):
            _draw_panel(fig.add_subplot(grid[row, k * span : (k + 1) * span]), root, panel, series)
    title = f"study {int(rows['study_id'].iloc[0])}: grade (P(Severe)) per target"
    if "unlike_training" in rows and rows["unlike_training"].astype(bool).any():
        title += (
            f" -- WARNING: unlike the training studies (novelty "
            f"{rows['novelty'].max():.1f}); grades may not hold for this scanner"
        )
    fig.suptitle(title, fontsize=10, color="black")
    fig.tight_layout()
    return fig
