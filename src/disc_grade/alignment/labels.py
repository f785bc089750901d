"""Align the labels of ``train.csv`` with their points on the series each condition is read on.

Spinal canal stenosis is read on sagittal T2, neural foraminal narrowing on sagittal T1 and
subarticular stenosis on axial T2. For each condition, every label cell becomes either a row
(``discs`` for the canal; the family's targets for the others) or an ``alignment_exclusions``
row with its reason, so ``label cells == rows + exclusions`` holds exactly, per condition.
Coordinates that match no label cell are listed too (``source == "coordinate"``).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from disc_grade.alignment.ledger import Ledger, exclusion, label_cells
from disc_grade.alignment.schema import (
    BLANK_LABEL,
    COORDINATE_MISSING,
    DISC_COLUMNS,
    EXCLUSION_COLUMNS,
    INSTANCE_NOT_IN_SERIES,
    NO_SAGITTAL_T2,
    NOT_ON_SAGITTAL_T2,
    OUTSIDE_IMAGE,
    SERIES_NOT_ON_DISK,
    STUDY_NOT_LABELLED,
    UNKNOWN_LABEL,
    UNKNOWN_LEVEL,
)
from disc_grade.conditions import spec_of
from disc_grade.dicom.series import GEOMETRY_COLUMNS
from disc_grade.rsna import (
    CONDITION_NAMES,
    LEVEL_FROM_NAME,
    LEVEL_NAMES,
    SAGITTAL_T2,
    SEVERITIES,
    SPINAL,
    condition_family,
)

logger = logging.getLogger(__name__)


def _series_reasons(description: str) -> tuple[str, str]:
    """(no such series, point not on such a series) reasons for a series description."""
    if description == SAGITTAL_T2:
        return NO_SAGITTAL_T2, NOT_ON_SAGITTAL_T2
    slug = description.lower().replace(" ", "_").replace("/", "_")
    return f"no_{slug}_series", f"coordinate_not_on_{slug}"


def _check_values(ledger: Ledger, described: pd.DataFrame, description: str) -> None:
    """Blank and unknown grades, and studies without the condition's series."""
    cells = ledger.cells
    ledger.drop(cells["label_text"].isna(), BLANK_LABEL, "train.csv cell is blank (not scored)")
    cells = ledger.cells
    ledger.drop(
        ~cells["label_text"].isin(SEVERITIES),
        UNKNOWN_LABEL,
        "expected one of " + ", ".join(SEVERITIES) + "; got " + cells["label_text"].astype(str),
    )
    no_series, _ = _series_reasons(description)
    ledger.drop(
        ~ledger.cells["study_id"].isin(described["study_id"]),
        no_series,
        f"train_series_descriptions.csv lists no {description} series for this study",
    )


def _points(
    coordinates: pd.DataFrame, train: pd.DataFrame, described: pd.DataFrame, condition: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One point per labelled (study, level) of the condition, and the points of no cell."""
    points = coordinates[coordinates["condition"] == CONDITION_NAMES[condition]].copy()
    points["level"] = points["level"].map(LEVEL_FROM_NAME)
    unlabelled = points[points["level"].isna() | ~points["study_id"].isin(train["study_id"])]
    points = points.drop(unlabelled.index)
    # a cell with several points (rare): prefer one on the condition's series, then the first
    points["on_series"] = points["series_id"].isin(described["series_id"])
    points = points.sort_values(
        ["study_id", "level", "on_series"], ascending=[True, True, False], kind="stable"
    )
    n_duplicates = int(points.duplicated(["study_id", "level"]).sum())
    if n_duplicates:
        logger.warning(
            "alignment: %d %s cells have several points; kept one each", n_duplicates, condition
        )
    return points.drop_duplicates(["study_id", "level"]), unlabelled


def _attach_points(ledger: Ledger, points: pd.DataFrame, condition: str, description: str):
    """Each cell's point, and the cells whose point is missing or on another series."""
    name = CONDITION_NAMES[condition]
    ledger.cells = ledger.cells.merge(
        points.drop(columns=["condition"]), on=["study_id", "level"], how="left"
    )
    ledger.drop(
        ledger.cells["series_id"].isna(),
        COORDINATE_MISSING,
        f"no {name} point in train_label_coordinates.csv",
    )
    _, not_on_series = _series_reasons(description)
    ledger.drop(
        ~ledger.cells["on_series"].astype(bool),
        not_on_series,
        f"the point's series is not described as {description}",
    )


def _attach_geometry(ledger: Ledger, series: pd.DataFrame) -> None:
    """Each cell's series geometry and slice rank; cells off a readable slice or the image."""
    readable = series[(series["n_slices"] > 0) & (series["status"] == "ok")]
    ledger.cells = ledger.cells.astype({"series_id": "int64", "instance_number": "int64"}).merge(
        readable[[*GEOMETRY_COLUMNS, "site"]], on=["study_id", "series_id"], how="left"
    )
    ledger.drop(
        ledger.cells["rows"].isna(),
        SERIES_NOT_ON_DISK,
        "the series has no readable, consistent DICOM files (see dicom_index / series)",
    )
    cells = ledger.cells
    ranks = [
        order.index(inst) if inst in order else -1
        for order, inst in zip(
            cells["instances_in_order"].map(list), cells["instance_number"], strict=True
        )
    ]
    cells["slice_rank"] = np.asarray(ranks, dtype=np.int64)
    ledger.drop(
        cells["slice_rank"] < 0,
        INSTANCE_NOT_IN_SERIES,
        "instance "
        + cells["instance_number"].astype(str)
        + " is not a readable slice of the series",
    )
    cells = ledger.cells
    outside = (cells["x"] < 0) | (cells["y"] < 0) | (cells["x"] > cells["columns"] - 1)
    outside |= (cells["y"] > cells["rows"] - 1) | cells["x"].isna() | cells["y"].isna()
    ledger.drop(
        outside,
        OUTSIDE_IMAGE,
        "("
        + cells["x"].astype(str)
        + ", "
        + cells["y"].astype(str)
        + ") outside "
        + cells["columns"].astype(str)
        + "x"
        + cells["rows"].astype(str),
    )


def align_discs(
    train: pd.DataFrame,
    coordinates: pd.DataFrame,
    series_descriptions: pd.DataFrame,
    series: pd.DataFrame,
    condition: str = SPINAL,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per usable cell of ``condition``; every other cell listed with its reason.

    Args:
        train: ``train.csv``.
        coordinates: ``train_label_coordinates.csv``.
        series_descriptions: ``train_series_descriptions.csv``.
        series: the ingestion's ``series`` table (what is readable on disk).
        condition: one of ``rsna.CONDITIONS``; its family decides the series it is read on.

    Returns:
        (rows, exclusions) with the dtypes of ``DISC_COLUMNS`` / ``EXCLUSION_COLUMNS``.
    """
    description = spec_of(condition_family(condition)).series
    described = series_descriptions[series_descriptions["series_description"] == description]
    ledger = Ledger(label_cells(train, condition))
    _check_values(ledger, described, description)
    points, unlabelled = _points(coordinates, train, described, condition)
    _attach_points(ledger, points, condition, description)
    _attach_geometry(ledger, series)
    cells = ledger.cells
    discs = (
        cells.assign(
            level_name=cells["level"].map(LEVEL_NAMES),
            label=cells["label_text"].map({s: i for i, s in enumerate(SEVERITIES)}),
            n_slices=cells["instances_in_order"].map(len),
            x_mm=cells["x"] * cells["pixel_spacing_col"],
            y_mm=cells["y"] * cells["pixel_spacing_row"],
        )[list(DISC_COLUMNS)]
        .astype(DISC_COLUMNS)
        .reset_index(drop=True)
    )
    if not unlabelled.empty:
        ledger.excluded.append(
            exclusion(
                "coordinate",
                np.where(unlabelled["level"].isna(), UNKNOWN_LEVEL, STUDY_NOT_LABELLED),
                unlabelled.assign(level=unlabelled["level"].astype("string")),
                f"{CONDITION_NAMES[condition]} point without a train.csv cell",
            )
        )
    exclusions = (
        pd.concat(ledger.excluded, ignore_index=True)
        if ledger.excluded
        else pd.DataFrame(columns=list(EXCLUSION_COLUMNS))
    ).astype(EXCLUSION_COLUMNS)
    return discs, exclusions
