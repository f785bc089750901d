"""Nodes of the study pipeline: fine-tune every variant on a fraction of the labelled studies."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from disc_grade.alignment.split import subsample_training
from disc_grade.models.training.finetune import finetune_grader
from disc_grade.models.training.pretrain import drawn_labels, pretrain_encoder

logger = logging.getLogger(__name__)


def finetune_on_fraction(
    disc_rois: np.ndarray,
    roi_index: pd.DataFrame,
    pretrained_encoder: dict,
    pretraining: dict[str, Any],
    params: dict[str, Any],
    variants: dict[str, dict],
    study: dict[str, Any],
) -> dict[str, pd.DataFrame]:
    """Predictions of every variant fine-tuned on ``study.fraction`` of the training studies,
    as the one cell ``f<fraction>_s<seed>`` of the grid's partitioned dataset.

    Pretraining without labels (NT-Xent alone) is not repeated: it used every training-split
    image and no label. With a supervised term (``supervised_weight`` above 0) the shared encoder
    read every training label, so a smaller budget pretrains again, reading only the drawn
    studies' labels. The seed draws both the labelled subset and the fine-tuning run. Nothing is
    checkpointed.
    """
    fraction, seed = float(study["fraction"]), int(study["seed"])
    subset = subsample_training(roi_index, fraction, seed)
    labels = drawn_labels(roi_index, subset)
    if float(pretraining["supervised_weight"]) > 0 and (labels < 0).any():
        train_rows = np.flatnonzero(roi_index["split"].to_numpy() == "train")
        logger.info("study: pretraining again on %d labelled training discs", (labels >= 0).sum())
        pretrained_encoder, _ = pretrain_encoder(
            np.asarray(disc_rois)[train_rows],
            {**pretraining, "checkpoint": None, "probe_every": 0},
            labels=labels,
        )
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
    cell = pd.concat(tables, ignore_index=True).assign(
        fraction=fraction, seed=seed, n_train_studies=n_train
    )
    return {cell_name(fraction, seed): cell}


def cell_name(fraction: float, seed: int) -> str:
    """The partition one grid cell writes, ``f<fraction>_s<seed>`` as DVC's matrix spells it
    (``f1.0_s0``, ``f0.05_s2``)."""
    return f"f{float(fraction)}_s{int(seed)}"
