"""How near a localiser lands to the reader's targets: one report for every condition.

Errors are measured in patient space (LPS mm), so a wrong slice, a wrong side or a wrong level
all count; ``same_slice`` says whether the target is on the reader's instance, and
``level_correct`` whether the predicted point lies nearer its own labelled target than any other
labelled target of the same study and condition (the canal's "level assignment").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from disc_grade.dicom.geometry import patient_points, with_slice_geometry

KEYS = ["study_id", "condition", "level"]
SPACING = ["pixel_spacing_row", "pixel_spacing_col"]


def _in_patient_space(rows: pd.DataFrame, dicom_index: pd.DataFrame) -> np.ndarray:
    return patient_points(with_slice_geometry(rows, dicom_index))


def _level_correct(merged: pd.DataFrame, truth: np.ndarray, guess: np.ndarray) -> np.ndarray:
    correct = np.zeros(len(merged), dtype=bool)
    for _, rows in merged.groupby(["study_id", "condition"]).groups.items():
        rows = np.asarray(rows)
        distance = np.linalg.norm(guess[rows][:, None, :] - truth[rows][None, :, :], axis=2)
        nearest = np.where(np.isnan(distance), np.inf, distance).argmin(axis=1)
        correct[rows] = nearest == np.arange(len(rows))  # rows not found are masked by the caller
    return correct


def target_errors(
    found: pd.DataFrame, reader: pd.DataFrame, dicom_index: pd.DataFrame
) -> pd.DataFrame:
    """Per reader target: where the predicted target lies from it (NaN and ``found`` False
    where nothing was found), on the reader's slice or not, and at the right level or not."""
    own = reader[[*KEYS, "split", "label", "series_id", "instance_number", "x", "y", *SPACING]]
    own = own.reset_index(drop=True)
    predicted = found[[*KEYS, "series_id", "instance_number", "slice_rank", "x", "y", *SPACING]]
    merged = own.merge(predicted, on=KEYS, how="left", suffixes=("", "_pred"), validate="1:1")
    truth = _in_patient_space(merged, dicom_index)
    hit = merged["x_pred"].notna().to_numpy()
    guess = np.full((len(merged), 3), np.nan)
    if hit.any():
        rows = merged[hit][
            ["study_id", "series_id_pred", "instance_number_pred", "x_pred", "y_pred"]
        ].set_axis(["study_id", "series_id", "instance_number", "x", "y"], axis=1)
        rows[SPACING] = merged.loc[hit, [f"{c}_pred" for c in SPACING]].to_numpy()
        guess[hit] = _in_patient_space(
            rows.astype({"series_id": "int64", "instance_number": "int64"}), dicom_index
        )
    same = (merged["series_id_pred"] == merged["series_id"]) & (
        merged["instance_number_pred"] == merged["instance_number"]
    )
    return merged.assign(
        found=hit,
        error_mm=np.linalg.norm(guess - truth, axis=1),
        same_slice=hit & same.to_numpy(),
        level_correct=hit & _level_correct(merged, truth, guess),
    )


def error_summary(errors: pd.DataFrame, within_mm: float) -> dict:
    """Targets, found, the median and 90th-centile error (mm) of the found, and the shares
    found within ``within_mm``, on the reader's slice and at the right level, all over every
    target (a missed one counts as wrong)."""
    found = errors[errors["found"]]
    n = len(errors)

    def share(mask) -> float | None:
        return float(np.sum(mask) / n) if n else None

    return {
        "n_targets": int(n),
        "n_found": int(len(found)),
        "median_error_mm": float(found["error_mm"].median()) if len(found) else None,
        "p90_error_mm": float(found["error_mm"].quantile(0.9)) if len(found) else None,
        f"within_{within_mm:g}mm": share(found["error_mm"] <= within_mm),
        "same_slice": share(found["same_slice"]),
        "level_correct": share(found["level_correct"]),
    }
