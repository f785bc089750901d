"""Nodes of the pretraining pipeline: contrastive encoder on the train-split ROIs, no labels."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from disc_grade.models.curves import curve_figure
from disc_grade.models.device import select_device
from disc_grade.models.networks import encoder_from_params
from disc_grade.models.pretrain import pretrain_encoder
from disc_grade.models.probe import CHANCE, probe_encoder

logger = logging.getLogger(__name__)


def pretrain_contrastive_encoder(
    disc_rois: np.ndarray, roi_index: pd.DataFrame, params: dict[str, Any]
):
    """Pretrain on the train split only (no validation or test ROI is seen); labels are not read.

    A linear probe and a kNN on the frozen features (cross-validated by study over the training
    and validation discs) say what the encoder learnt about the grade; a probe within
    ``probe_failure_margin`` of chance marks the run as failed, in the log and in
    ``pretraining_probe.json``.
    """
    rows = np.flatnonzero(roi_index["split"].to_numpy() == "train")
    if len(rows) < 4:
        raise ValueError(f"pretraining needs at least 4 train-split ROIs, got {len(rows)}")
    checkpoint = Path(params["checkpoint"]) if params.get("checkpoint") else None
    rois = np.asarray(disc_rois)
    weights, curve = pretrain_encoder(
        rois[rows], params, checkpoint=checkpoint, probe_set=(rois, roi_index)
    )
    probe = final_probe(weights, rois, roi_index, params)
    logger.info(
        "pretraining: %d ROIs, %d epochs, final loss %.4f; linear probe %.3f, kNN %.3f (chance %.3f)",
        len(rows),
        len(curve),
        curve["train_loss"].iloc[-1],
        probe["probe_balanced_accuracy"],
        probe["knn_balanced_accuracy"],
        CHANCE,
    )
    if probe["failed"]:
        logger.warning(
            "pretraining FAILED: the linear probe on the frozen features (%.3f) is within %.2f of "
            "chance; the encoder carries no grade information",
            probe["probe_balanced_accuracy"],
            float(params["probe_failure_margin"]),
        )
    title = "Contrastive pretraining (NT-Xent) and what the frozen features know"
    return weights, curve, curve_figure({"contrastive pretraining": curve}, title), probe


def final_probe(weights: dict, rois: np.ndarray, index: pd.DataFrame, params: dict) -> dict:
    """The probe of the encoder pretraining returns, with the verdict."""
    encoder = encoder_from_params(params["encoder"], in_channels=rois.shape[1])
    encoder.load_state_dict(weights)
    scores = probe_encoder(encoder, rois, index, select_device(params["device"]))
    failed = not scores["probe_balanced_accuracy"] > CHANCE + float(params["probe_failure_margin"])
    return {**scores, "chance": CHANCE, "failed": bool(failed)}
