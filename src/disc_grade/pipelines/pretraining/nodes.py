"""Nodes of the pretraining pipeline: contrastive encoder on the train-split ROIs, no labels."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from disc_grade.models.curves import curve_figure
from disc_grade.models.pretrain import pretrain_encoder

logger = logging.getLogger(__name__)


def pretrain_contrastive_encoder(
    disc_rois: np.ndarray, roi_index: pd.DataFrame, params: dict[str, Any]
):
    """Pretrain on the train split only (no validation or test ROI is seen); labels are not read."""
    rows = np.flatnonzero(roi_index["split"].to_numpy() == "train")
    if len(rows) < 4:
        raise ValueError(f"pretraining needs at least 4 train-split ROIs, got {len(rows)}")
    checkpoint = Path(params["checkpoint"]) if params.get("checkpoint") else None
    weights, curve = pretrain_encoder(np.asarray(disc_rois[rows]), params, checkpoint=checkpoint)
    logger.info(
        "pretraining: %d ROIs, %d epochs, final loss %.4f",
        len(rows),
        len(curve),
        curve["train_loss"].iloc[-1],
    )
    return (
        weights,
        curve,
        curve_figure({"contrastive pretraining": curve}, "Contrastive pretraining (NT-Xent)"),
    )
