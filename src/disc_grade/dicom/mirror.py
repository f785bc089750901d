"""Sides mirrored: every crop of a sided target turned so that its lateral side lies the same way.

A left and a right foramen (or recess) are mirror images of one another. Turned so that the
target's lateral side always lies the same way, one grader sees every side as the same anatomy
and learns it from twice the crops. Which way is lateral comes from the series' geometry (DICOM
patient coordinates are LPS: +x is the patient's left), never from file order:

- axial crops (the recesses) are flipped in-plane where the image's columns run medially, i.e.
  where the LPS x of the column direction (``column_x``, ImageOrientationPatient's row cosine)
  points away from the target's side;
- sagittal crops (the foramina) have their slices (the 2.5D channels, in the order of the
  slice normal) reversed where the normal's LPS x (``normal_x``) points away from the target's
  side, so the last channel is always the most lateral slice.

A crop of a target without a side (the canal) is left as it is.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from disc_grade.dicom.roi import roi_centre

GEOMETRY = ["normal_x", "column_x", "plane"]  # the series columns it reads


def lateral_sign(conditions: pd.Series) -> np.ndarray:
    """[n] +1 for a left target (lateral is +x), -1 for a right one, 0 without a side."""
    text = conditions.astype(str)
    return np.where(text.str.startswith("left_"), 1, np.where(text.str.startswith("right_"), -1, 0))


def mirror_plan(index: pd.DataFrame, series: pd.DataFrame) -> pd.DataFrame:
    """Per row of ``index`` (``study_id``, ``series_id``, ``condition``): whether its crop's
    columns are flipped (``mirrored_columns``) and its slices reversed (``reversed_slices``).

    Raises:
        ValueError: the series table lacks the geometry (an ingestion from before it was read).
    """
    missing = [c for c in GEOMETRY if c not in series]
    if missing:
        raise ValueError(
            f"series table lacks {missing}: rerun ingestion (kedro run --pipelines=ingestion) "
            "before mirroring sides (roi.mirror_sides)"
        )
    geometry = index[["study_id", "series_id"]].merge(
        series[["study_id", "series_id", *GEOMETRY]], on=["study_id", "series_id"], how="left"
    )
    sign = lateral_sign(index["condition"]) if len(index) else np.zeros(0, dtype=int)
    plane = geometry["plane"].astype(str).to_numpy()
    column_x = geometry["column_x"].to_numpy(dtype=float)
    normal_x = geometry["normal_x"].to_numpy(dtype=float)
    return pd.DataFrame(
        {
            "mirrored_columns": (plane == "axial") & (sign * column_x < 0),
            "reversed_slices": (plane == "sagittal") & (sign * normal_x < 0),
        }
    )


def mirror_sides(
    rois: np.ndarray, index: pd.DataFrame, series: pd.DataFrame
) -> tuple[np.ndarray, pd.DataFrame]:
    """``rois`` [n, C, H, W] turned as ``mirror_plan`` says, and ``index`` with the plan's two
    columns and each point (``point_x``) where it now lies. ``rois`` is changed in place."""
    plan = mirror_plan(index, series)
    flip = plan["mirrored_columns"].to_numpy()
    reverse = plan["reversed_slices"].to_numpy()
    if flip.any():
        rois[flip] = rois[flip][..., ::-1]
    if reverse.any():
        rois[reverse] = rois[reverse][:, ::-1]
    out = index.assign(**{c: plan[c].to_numpy() for c in plan})
    if "point_x" in out and flip.any():
        size = rois.shape[-1]
        out.loc[flip, "point_x"] = 2 * roi_centre(size) - out.loc[flip, "point_x"]
    return rois, out
