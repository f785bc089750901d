"""Align the spinal-canal labels of ``train.csv`` with their points on the sagittal T2 series.

Every label cell becomes either a ``discs`` row or an ``alignment_exclusions`` row with its
reason, so ``label cells == discs + exclusions`` holds exactly. Coordinates that match no label
cell are listed too (``source == "coordinate"``).
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
    CONDITION_NAMES,
    LEVEL_FROM_NAME,
    LEVEL_NAMES,
    LEVELS,
    SAGITTAL_T2,
    SEVERITIES,
    SPINAL,
    label_column,
)

logger = logging.getLogger(__name__)

SPINAL_NAME = CONDITION_NAMES[SPINAL]


def spinal_label_cells(train: pd.DataFrame) -> pd.DataFrame:
    """Long form of the spinal columns: one row per (study, level) cell, blanks kept.

    Raises:
        ValueError: ``train.csv`` lacks ``study_id`` or a spinal column.
    """
    columns = [label_column(SPINAL, level) for level in LEVELS]
    missing = [c for c in ["study_id", *columns] if c not in train.columns]
    if missing:
        raise ValueError(f"train.csv lacks column(s) {missing}; is raw_root an RSNA 2024 folder?")
    cells = train[["study_id", *columns]].melt(
        id_vars="study_id", var_name="column", value_name="label_text"
    )
    cells["level"] = cells.pop("column").str.removeprefix(f"{SPINAL}_")
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
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per usable spinal-canal disc; every other cell listed with its reason.

    Args:
        train: ``train.csv``.
        coordinates: ``train_label_coordinates.csv``.
        series_descriptions: ``train_series_descriptions.csv``.
        series: the ingestion's ``series`` table (what is readable on disk).

    Returns:
        (discs, exclusions) with the dtypes of ``DISC_COLUMNS`` / ``EXCLUSION_COLUMNS``.
    """
    cells = spinal_label_cells(train)
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

    sag_t2 = series_descriptions[series_descriptions["series_description"] == SAGITTAL_T2]
    drop(
        ~cells["study_id"].isin(sag_t2["study_id"]),
        NO_SAGITTAL_T2,
        f"train_series_descriptions.csv lists no {SAGITTAL_T2} series for this study",
    )

    spinal = coordinates[coordinates["condition"] == SPINAL_NAME].copy()
    spinal["level"] = spinal["level"].map(LEVEL_FROM_NAME)
    unlabelled = spinal[spinal["level"].isna() | ~spinal["study_id"].isin(train["study_id"])]
    spinal = spinal.drop(unlabelled.index)
    # a cell with several points (rare): prefer one on a sagittal T2 series, then the first
    spinal["on_t2"] = spinal["series_id"].isin(sag_t2["series_id"])
    spinal = spinal.sort_values(
        ["study_id", "level", "on_t2"], ascending=[True, True, False], kind="stable"
    )
    n_duplicates = int(spinal.duplicated(["study_id", "level"]).sum())
    if n_duplicates:
        logger.warning(
            "alignment: %d label cells have several spinal points; kept one each", n_duplicates
        )
    spinal = spinal.drop_duplicates(["study_id", "level"])

    cells = cells.merge(spinal.drop(columns=["condition"]), on=["study_id", "level"], how="left")
    drop(
        cells["series_id"].isna(),
        COORDINATE_MISSING,
        "no spinal canal point in train_label_coordinates.csv",
    )
    drop(
        ~cells["on_t2"].astype(bool),
        NOT_ON_SAGITTAL_T2,
        f"the point's series is not described as {SAGITTAL_T2}",
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
                "spinal point without a train.csv cell",
            )
        )
    exclusions = (
        pd.concat(excluded, ignore_index=True)
        if excluded
        else pd.DataFrame(columns=list(EXCLUSION_COLUMNS))
    ).astype(EXCLUSION_COLUMNS)
    return discs, exclusions
