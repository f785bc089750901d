"""How far the localisation head's point is from the true one, against answering the centre.

Rows whose true point is unknown inside the crop (NaN: a target found on another series than
the reader's) are left out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _point_errors(table: pd.DataFrame, x: np.ndarray, y: np.ndarray, suffix: str) -> dict:
    dist_px = np.hypot(x - table["point_x_true"].to_numpy(), y - table["point_y_true"].to_numpy())
    dist_mm = dist_px * table["mm_per_px"].to_numpy()
    known = np.isfinite(dist_px)
    dist_px, dist_mm = dist_px[known], dist_mm[known]
    keys = (f"loc_rmse_px{suffix}", f"loc_rmse_mm{suffix}", f"loc_median_mm{suffix}")
    if not len(dist_px):
        return dict.fromkeys(keys, float("nan"))
    values = (np.sqrt(np.mean(dist_px**2)), np.sqrt(np.mean(dist_mm**2)), np.median(dist_mm))
    return {k: float(v) for k, v in zip(keys, values, strict=True)}


def localisation_error(table: pd.DataFrame) -> dict[str, float]:
    """RMSE and median distance (px and mm) of the predicted canal point to the true one.

    With ``roi_centre_px`` also the same for the trivial head that always answers the ROI's
    centre (``_centre`` keys): the head has learnt something only where it beats that.
    """
    out = _point_errors(
        table, table["point_x_pred"].to_numpy(), table["point_y_pred"].to_numpy(), ""
    )
    if "roi_centre_px" in table:
        centre = table["roi_centre_px"].to_numpy(dtype=float)
        out |= _point_errors(table, centre, centre, "_centre")
    return out
