"""Choosing each study's sagittal T2 series, and the RSNA submission rows."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from disc_grade.rsna import (
    AXIAL_T2,
    LEVELS,
    SAGITTAL_T1,
    SAGITTAL_T2,
    SPINAL,
    SUBMISSION_COLUMNS,
    submission_row_id,
)

T2_PATTERN = re.compile(r"t2|stir", re.IGNORECASE)
T1_PATTERN = re.compile(r"t1", re.IGNORECASE)


def choose_sagittal_t2(
    dicom_index: pd.DataFrame, series: pd.DataFrame, descriptions: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per study folder: the chosen series or the reason there is none.

    With a series-description CSV its sagittal T2 rows (``rsna.SAGITTAL_T2``) decide; without one, a readable
    sagittal series whose SeriesDescription says T2 or STIR (not T1); failing that, a sagittal
    series that does not say T1, flagged. Several candidates: the one with the most slices.
    """
    studies = sorted(set(dicom_index["study_id"].dropna().astype("int64")))
    usable = series[(series["status"] == "ok") & (series["n_slices"] >= 1)]
    rows = []
    for study_id in studies:
        own = usable[usable["study_id"] == study_id]
        note, chosen = "", pd.DataFrame()
        if descriptions is not None:
            listed = descriptions[
                (descriptions["study_id"] == study_id)
                & (descriptions["series_description"] == SAGITTAL_T2)
            ]
            chosen = own[own["series_id"].isin(listed["series_id"])]
            note = "series-description CSV"
        else:
            sagittal = own[own["plane"] == "sagittal"]
            text = sagittal["series_description"].fillna("")
            chosen = sagittal[text.str.contains(T2_PATTERN) & ~text.str.contains(T1_PATTERN)]
            note = "DICOM headers"
            if chosen.empty:
                chosen = sagittal[~text.str.contains(T1_PATTERN)]
                note = "DICOM headers: sagittal series without T1/T2 in its description"
        if chosen.empty:
            reason = "no readable sagittal T2 series" if len(own) else "no readable series"
            rows.append(
                {"study_id": study_id, "series_id": pd.NA, "status": "not_graded", "reason": reason}
            )
            continue
        best = chosen.sort_values(["n_slices", "series_id"], ascending=[False, True]).iloc[0]
        rows.append(
            {
                "study_id": study_id,
                "series_id": int(best["series_id"]),
                "status": "ok",
                "reason": note,
            }
        )
    return pd.DataFrame(rows, columns=["study_id", "series_id", "status", "reason"]).astype(
        {"study_id": "int64", "series_id": "Int64", "status": "string", "reason": "string"}
    )


def choose_family_series(
    series: pd.DataFrame, descriptions: pd.DataFrame | None, family: str
) -> pd.DataFrame:
    """Per study the series a family is read on: its sagittal T1 (the one with most slices), or
    every axial T2 series (a study may split its levels over two).

    With a series-description CSV its rows decide; without one, the plane from the orientation
    and the SeriesDescription (T1 for the foramina; not T1 for the axial series).
    """
    usable = series[(series["status"] == "ok") & (series["n_slices"] >= 1)]
    if descriptions is not None:
        wanted = SAGITTAL_T1 if family == "foraminal" else AXIAL_T2
        listed = descriptions[descriptions["series_description"] == wanted]
        chosen = usable[usable["series_id"].isin(listed["series_id"])]
    else:
        text = usable["series_description"].fillna("")
        if family == "foraminal":
            chosen = usable[(usable["plane"] == "sagittal") & text.str.contains(T1_PATTERN)]
        else:
            chosen = usable[(usable["plane"] == "axial") & ~text.str.contains(T1_PATTERN)]
    if family == "foraminal":
        chosen = chosen.sort_values(
            ["study_id", "n_slices", "series_id"], ascending=[True, False, True]
        ).drop_duplicates("study_id")
    return chosen[["study_id", "series_id"]].reset_index(drop=True)


def submission_rows(table: pd.DataFrame) -> pd.DataFrame:
    """RSNA ``sample_submission.csv`` rows, one per target of ``table`` and in its order."""
    conditions = table["condition"] if "condition" in table else pd.Series(SPINAL, table.index)
    return pd.DataFrame(
        {
            "row_id": [
                submission_row_id(study_id, condition, level)
                for study_id, condition, level in zip(
                    table["study_id"], conditions, table["level"], strict=True
                )
            ],
            "normal_mild": table["p_normal_mild"].to_numpy(dtype=float),
            "moderate": table["p_moderate"].to_numpy(dtype=float),
            "severe": table["p_severe"].to_numpy(dtype=float),
        }
    )[SUBMISSION_COLUMNS]


def every_level(studies: pd.Series) -> pd.DataFrame:
    """(study_id, level) for every requested level of every study."""
    ids = np.repeat(studies.to_numpy(dtype=np.int64), len(LEVELS))
    return pd.DataFrame({"study_id": ids, "level": np.tile(LEVELS, len(studies))})
