"""How near a localiser lands to the reader's targets: one report for every condition.

Errors are measured in patient space (LPS mm), so a wrong slice, a wrong side or a wrong level
all count; ``same_slice`` says whether the target is on the reader's instance, and
``level_correct`` whether the predicted point lies nearer its own labelled target than any other
labelled target of the same study and condition (the canal's "level assignment").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from disc_grade.alignment.landmarks import adjacent_gaps
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


def close_pairs(found: pd.DataFrame, dicom_index: pd.DataFrame, spacing_mm: float) -> int:
    """How many adjacent levels' points of a study and condition lie closer than half the
    expected disc spacing (two levels on one disc)."""
    if found.empty:
        return 0
    points = _in_patient_space(found, dicom_index)
    at = found[["study_id", "condition", "level"]].assign(
        px=points[:, 0], py=points[:, 1], pz=points[:, 2]
    )
    return int((adjacent_gaps(at, ["study_id", "condition"]) < 0.5 * spacing_mm).sum())


def decoding_figures(
    found: pd.DataFrame, reader: pd.DataFrame, dicom_index: pd.DataFrame, spacing_mm: float | None
) -> dict[str, dict]:
    """Per split the levels decoded together against each level's own peak (``own_x``,
    ``own_y``): the share at the right level, the adjacent pairs closer than half the spacing,
    and the targets marked ``level_uncertain``."""
    alone = found.assign(x=found["own_x"], y=found["own_y"])
    out = {}
    splits = reader.drop_duplicates("study_id").set_index("study_id")["split"]
    for split, errors in target_errors(alone, reader, dicom_index).groupby("split"):
        n = len(errors)
        mine = found["study_id"].isin(set(splits[splits == split].index))
        figures = {
            "level_correct_alone": float(errors["level_correct"].sum() / n) if n else None,
            "level_uncertain": int(found.loc[mine, "level_uncertain"].astype(bool).sum()),
        }
        if spacing_mm:
            figures["close_pairs"] = close_pairs(found[mine], dicom_index, spacing_mm)
            figures["close_pairs_alone"] = close_pairs(alone[mine], dicom_index, spacing_mm)
        out[str(split)] = figures
    return out
