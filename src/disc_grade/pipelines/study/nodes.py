"""Nodes of the study pipeline: fine-tune every variant on a fraction of the labelled studies."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from disc_grade.alignment.split import subsample_training
from disc_grade.models.finetune import finetune_grader

logger = logging.getLogger(__name__)


def finetune_on_fraction(
    disc_rois: np.ndarray,
    roi_index: pd.DataFrame,
    pretrained_encoder: dict,
    params: dict[str, Any],
    variants: dict[str, dict],
    study: dict[str, Any],
) -> pd.DataFrame:
    """Predictions of every variant fine-tuned on ``study.fraction`` of the training studies.

    Pretraining is not repeated: it used every training-split image without labels. The
    seed draws both the labelled subset and the fine-tuning run. Nothing is checkpointed.
    """
    fraction, seed = float(study["fraction"]), int(study["seed"])
    subset = subsample_training(roi_index, fraction, seed)
    rows = subset["roi"].to_numpy()  # row i of roi_index describes ROI i
    rois = np.asarray(disc_rois)[rows]
    index = subset.reset_index(drop=True)
    run = {**params, "seed": seed}
    tables = []
    for variant in variants.values():
        _, _, predictions = finetune_grader(rois, index, pretrained_encoder, run, variant)
        tables.append(predictions)
    n_train = index.loc[index["split"] == "train", "study_id"].nunique()
    logger.info(
        "study: fraction %.2f, seed %d: %d labelled training studies", fraction, seed, n_train
    )
    return pd.concat(tables, ignore_index=True).assign(
        fraction=fraction, seed=seed, n_train_studies=n_train
    )
