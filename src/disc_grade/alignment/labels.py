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
from disc_grade.dicom.series import GEOMETRY_COLUMNS
from disc_grade.rsna import (
    AXIAL_T2,
    CONDITION_NAMES,
    LEVEL_FROM_NAME,
    LEVEL_NAMES,
    LEVELS,
    SAGITTAL_T1,
    SAGITTAL_T2,
    SEVERITIES,
    SPINAL,
    condition_family,
    label_column,
)

logger = logging.getLogger(__name__)


# the series each condition family is read on, and the reasons its checks report
FAMILY_SERIES = {"spinal": SAGITTAL_T2, "foraminal": SAGITTAL_T1, "subarticular": AXIAL_T2}


def _series_reasons(description: str) -> tuple[str, str]:
    """(no such series, point not on such a series) reasons for a series description."""
    if description == SAGITTAL_T2:
        return NO_SAGITTAL_T2, NOT_ON_SAGITTAL_T2
    slug = description.lower().replace(" ", "_").replace("/", "_")
    return f"no_{slug}_series", f"coordinate_not_on_{slug}"


def label_cells(train: pd.DataFrame, condition: str = SPINAL) -> pd.DataFrame:
    """Long form of one condition's columns: one row per (study, level) cell, blanks kept.

    Raises:
        ValueError: ``train.csv`` lacks ``study_id`` or one of the condition's columns.
    """
    columns = [label_column(condition, level) for level in LEVELS]
    missing = [c for c in ["study_id", *columns] if c not in train.columns]
    if missing:
        raise ValueError(f"train.csv lacks column(s) {missing}; is raw_root an RSNA 2024 folder?")
    cells = train[["study_id", *columns]].melt(
        id_vars="study_id", var_name="column", value_name="label_text"
    )
    cells["level"] = cells.pop("column").str.removeprefix(f"{condition}_")
    cells["label_text"] = cells["label_text"].astype("string").str.strip().replace("", pd.NA)
    cells["study_id"] = cells["study_id"].astype("int64")
    return cells.sort_values(["study_id", "level"], kind="stable").reset_index(drop=True)


def _exclusion(
    source: str, reason: str, frame: pd.DataFrame, detail: str | pd.Series = ""
) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            c: frame[c] if c in frame else pd.NA
            for c in EXCLUSION_COLUMNS
            if c not in ("source", "reason", "detail")
        }
    )
    out.insert(0, "source", source)
    out["reason"] = reason
    out["detail"] = detail
    return out[list(EXCLUSION_COLUMNS)].astype(EXCLUSION_COLUMNS)


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
    description = FAMILY_SERIES[condition_family(condition)]
    no_series, not_on_series = _series_reasons(description)
    condition_name = CONDITION_NAMES[condition]
    cells = label_cells(train, condition)
    excluded: list[pd.DataFrame] = []

    def drop(mask: pd.Series, reason: str, detail: str | pd.Series = "") -> None:
        nonlocal cells
        if mask.any():
            d = detail[mask] if isinstance(detail, pd.Series) else detail
            excluded.append(_exclusion("label_cell", reason, cells[mask], d))
        cells = cells[~mask]

    drop(cells["label_text"].isna(), BLANK_LABEL, "train.csv cell is blank (not scored)")
    drop(
        ~cells["label_text"].isin(SEVERITIES),
        UNKNOWN_LABEL,
        "expected one of " + ", ".join(SEVERITIES) + "; got " + cells["label_text"].astype(str),
    )

    described = series_descriptions[series_descriptions["series_description"] == description]
    drop(
        ~cells["study_id"].isin(described["study_id"]),
        no_series,
        f"train_series_descriptions.csv lists no {description} series for this study",
    )

    points = coordinates[coordinates["condition"] == condition_name].copy()
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
    points = points.drop_duplicates(["study_id", "level"])

    cells = cells.merge(points.drop(columns=["condition"]), on=["study_id", "level"], how="left")
    drop(
        cells["series_id"].isna(),
        COORDINATE_MISSING,
        f"no {condition_name} point in train_label_coordinates.csv",
    )
    drop(
        ~cells["on_series"].astype(bool),
        not_on_series,
        f"the point's series is not described as {description}",
    )

    readable = series[(series["n_slices"] > 0) & (series["status"] == "ok")]
    cells = cells.astype({"series_id": "int64", "instance_number": "int64"})
    cells = cells.merge(
        readable[[*GEOMETRY_COLUMNS, "site"]],
        on=["study_id", "series_id"],
        how="left",
    )
    drop(
        cells["rows"].isna(),
        SERIES_NOT_ON_DISK,
        "the series has no readable, consistent DICOM files (see dicom_index / series)",
    )

    ranks = [
        order.index(inst) if inst in order else -1
        for order, inst in zip(
            cells["instances_in_order"].map(list), cells["instance_number"], strict=True
        )
    ]
    cells["slice_rank"] = np.asarray(ranks, dtype=np.int64)
    drop(
        cells["slice_rank"] < 0,
        INSTANCE_NOT_IN_SERIES,
        "instance "
        + cells["instance_number"].astype(str)
        + " is not a readable slice of the series",
    )
    outside = (
        (cells["x"] < 0)
        | (cells["y"] < 0)
        | (cells["x"] > cells["columns"] - 1)
        | (cells["y"] > cells["rows"] - 1)
    )
    outside |= cells["x"].isna() | cells["y"].isna()
    drop(
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
        excluded.append(
            _exclusion(
                "coordinate",
                np.where(unlabelled["level"].isna(), UNKNOWN_LEVEL, STUDY_NOT_LABELLED),
                unlabelled.assign(level=unlabelled["level"].astype("string")),
                f"{condition_name} point without a train.csv cell",
            )
        )
    exclusions = (
        pd.concat(excluded, ignore_index=True)
        if excluded
        else pd.DataFrame(columns=list(EXCLUSION_COLUMNS))
    ).astype(EXCLUSION_COLUMNS)
    return discs, exclusions
