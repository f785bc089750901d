"""Nodes of the finetuning pipeline: one variant per Kedro namespace, then one predictions table."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from disc_grade.models.curves import curve_figure
from disc_grade.models.finetune import finetune_grader

logger = logging.getLogger(__name__)


def finetune_variant(
    disc_rois: np.ndarray,
    roi_index: pd.DataFrame,
    pretrained_encoder: dict,
    params: dict[str, Any],
    variant: dict[str, Any],
):
    """Fine-tune one variant (contrastive, scratch or frozen); predictions for validation and test."""
    checkpoint_dir = params.get("checkpoint_dir")
    checkpoint = Path(checkpoint_dir) / f"{variant['name']}.ckpt" if checkpoint_dir else None
    model, curve, predictions = finetune_grader(
        np.asarray(disc_rois), roi_index, pretrained_encoder, params, variant, checkpoint=checkpoint
    )
    test = predictions[predictions["split"] == "test"]
    logger.info(
        "finetune[%s]: %d validation/test predictions, test accuracy %.3f",
        variant["name"],
        len(predictions),
        float((test["predicted"] == test["label"]).mean()) if len(test) else float("nan"),
    )
    return (
        {k: v.detach().cpu() for k, v in model.state_dict().items()},
        curve.assign(variant=variant["name"]),
        predictions,
    )


def combine_predictions(*tables: pd.DataFrame) -> pd.DataFrame:
    """One ``predictions`` table with a ``variant`` column."""
    combined = pd.concat(tables, ignore_index=True)
    keys = ["variant", "study_id", *(["condition"] if "condition" in combined else []), "level"]
    if combined.duplicated(keys).any():
        raise ValueError(f"predictions: a ({', '.join(keys)}) appears twice")
    return combined


def plot_finetuning_curves(*curves: pd.DataFrame):
    """Loss and validation balanced accuracy of every variant."""
    return curve_figure({c["variant"].iloc[0]: c for c in curves}, "Fine-tuning")
