"""Grading without the labelled points: crop where the localiser says the canal is, then grade.

The fine-tuned graders are measured on crops around the labelled points; a user has no labels.
This grades the same held-out discs on crops centred on the localiser's predicted point and
slice, so the report can show what localisation error costs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from disc_grade.dicom.extract import RoiSpec, extract_rois
from disc_grade.models.device import select_device
from disc_grade.models.predict import load_grader, predict, prediction_table


def localised_discs(localised: pd.DataFrame) -> pd.DataFrame:
    """Held-out discs re-pointed at the localiser's answer (point and slice)."""
    return localised.assign(
        x=localised["x_pred"], y=localised["y_pred"], slice_rank=localised["slice_rank_pred"]
    )


def grade_at_localised_points(
    root: Path,
    localised: pd.DataFrame,
    series: pd.DataFrame,
    graders: dict[str, dict],
    spec: RoiSpec,
    encoder_params: dict,
    device: str = "auto",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Predictions of every grader on crops at the localised points, and the discs not cropped.

    Args:
        localised: the localiser's per-disc table (labels, split, ``x_pred``, ``y_pred``,
            ``slice_rank_pred``).
        graders: variant name -> grader weights.
    """
    rois, index, excluded = extract_rois(root, localised_discs(localised), series, spec, workers=1)
    torch_device = select_device(device)
    tables = []
    for variant, weights in graders.items():
        grader = load_grader(weights, encoder_params, torch_device)
        probs, points = predict(grader, rois, np.arange(len(rois)), torch_device)
        tables.append(prediction_table(index, probs, points, variant, spec.size_px))
    return pd.concat(tables, ignore_index=True), excluded
