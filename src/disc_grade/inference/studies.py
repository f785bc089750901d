"""Choosing the series each condition is read on, and the RSNA submission rows."""

from __future__ import annotations

import re

import pandas as pd

from disc_grade.conditions import ConditionSpec
from disc_grade.rsna import (
    SAGITTAL_T1,
    SAGITTAL_T2,
    SUBMISSION_COLUMNS,
    submission_row_id,
)

T2_PATTERN = re.compile(r"t2|stir", re.IGNORECASE)
T1_PATTERN = re.compile(r"t1", re.IGNORECASE)


def choose_series(
    spec: ConditionSpec, series: pd.DataFrame, descriptions: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per study the series a condition is read on: ``study_id, series_id``.

    With a series-description table (``train_series_descriptions.csv``, or the optional CSV of
    new studies) its rows of the condition's description decide; without one, the plane from the
    orientation and the SeriesDescription: sagittal T2 says T2 or STIR and not T1 (failing that,
    a sagittal series that does not say T1), sagittal T1 says T1, axial T2 does not say T1. A
    sagittal condition takes the series with the most slices; an axial one takes every axial
    series (a study may split its levels over two).
    """
    usable = series[(series["status"] == "ok") & (series["n_slices"] >= 1)]
    if descriptions is not None:
        listed = descriptions[descriptions["series_description"] == spec.series]
        chosen = usable[usable["series_id"].isin(listed["series_id"])]
    else:
        text = usable["series_description"].fillna("")
        plane = usable["plane"] == spec.plane
        t1, t2 = text.str.contains(T1_PATTERN), text.str.contains(T2_PATTERN)
        if spec.series == SAGITTAL_T2:
            fallback = usable[
                plane & ~t1 & ~usable["study_id"].isin(usable[plane & t2 & ~t1]["study_id"])
            ]
            chosen = pd.concat([usable[plane & t2 & ~t1], fallback])
        else:
            chosen = usable[plane & (t1 if spec.series == SAGITTAL_T1 else ~t1)]
    if spec.plane == "sagittal":
        chosen = chosen.sort_values(
            ["study_id", "n_slices", "series_id"], ascending=[True, False, True]
        ).drop_duplicates("study_id")
    return chosen[["study_id", "series_id"]].reset_index(drop=True)


def submission_rows(table: pd.DataFrame) -> pd.DataFrame:
    """RSNA ``sample_submission.csv`` rows, one per target of ``table`` and in its order."""
    return pd.DataFrame(
        {
            "row_id": [
                submission_row_id(study_id, condition, level)
                for study_id, condition, level in zip(
                    table["study_id"], table["condition"], table["level"], strict=True
                )
            ],
            "normal_mild": table["p_normal_mild"].to_numpy(dtype=float),
            "moderate": table["p_moderate"].to_numpy(dtype=float),
            "severe": table["p_severe"].to_numpy(dtype=float),
        }
    )[SUBMISSION_COLUMNS]
