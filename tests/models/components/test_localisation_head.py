"""On crops whose canal point is off-centre, the trained head beats the head that answers the centre."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from disc_grade.evaluation.localisation import localisation_error
from disc_grade.models.training.finetune import finetune_grader
from disc_grade.rsna import SPINAL
from tests.models.training.tiny import PARAMS, VARIANT

SIZE = 24


def shifted_rois(n: int = 120, seed: int = 0) -> tuple[np.ndarray, pd.DataFrame]:
    """A bright canal-like band whose centre (the point) sits up to 6 px off the ROI centre."""
    rng = np.random.default_rng(seed)
    labels = np.tile([0, 1, 2], n // 3)
    offsets = rng.uniform(-6, 6, size=(n, 2))
    rois = rng.normal(0.2, 0.05, size=(n, 3, SIZE, SIZE)).astype(np.float32)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    centre = (SIZE - 1) / 2
    for i, (label, (dx, dy)) in enumerate(zip(labels, offsets, strict=True)):
        half = (4, 2.5, 1.5)[label]
        band = (np.abs(xx - (centre + dx)) < half) & (np.abs(yy - (centre + dy)) < 6)
        rois[i, :, band] += 0.8
    n_eval = n // 5
    index = pd.DataFrame(
        {
            "study_id": np.arange(n) + 10**9,
            "condition": SPINAL,
            "level": "l4_l5",
            "label": labels,
            "split": ["train"] * (n - 2 * n_eval) + ["validation"] * n_eval + ["test"] * n_eval,
            "point_x": centre + offsets[:, 0],
            "point_y": centre + offsets[:, 1],
            "roi_mm_per_px": 1.25,
        }
    )
    return rois.astype(np.float16), index


def test_trained_head_beats_the_centre_on_shifted_crops():
    rois, index = shifted_rois()
    params = {
        **PARAMS,
        "epochs": 12,
        "batch_size": 16,
        "localisation_weight": 3.0,
        "augment": {"shift": 0.1},
    }
    _, _, predictions = finetune_grader(rois, index, None, params, VARIANT)
    test = predictions[predictions["split"] == "test"]
    errors = localisation_error(test)
    assert errors["loc_rmse_px_centre"] > 4.0, "the offsets put the point off the centre"
    assert errors["loc_rmse_px"] < 0.6 * errors["loc_rmse_px_centre"], errors
    assert errors["loc_rmse_mm"] == pytest.approx(errors["loc_rmse_px"] * 1.25)
