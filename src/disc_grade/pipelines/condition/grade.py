"""Nodes: a condition's ROIs, its contrastive encoder and its three fine-tuned graders."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from disc_grade.datasets import DicomTree
from disc_grade.dicom.extract import RoiSpec, crop_offsets, extract_rois
from disc_grade.dicom.headers import cpu_workers
from disc_grade.models.training.finetune import finetune_grader
from disc_grade.models.training.recipe import VARIANTS, Recipe

logger = logging.getLogger(__name__)
OFFSET_SPLITS = ("train", "validation")

__all__ = ["VARIANTS"]


def crop_rois(
    targets: pd.DataFrame, series: pd.DataFrame, images: DicomTree, params: dict[str, Any]
) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame]:
    """One 2.5D ROI per target; targets whose slice cannot be decoded are listed.

    Training and validation crops are shifted by a seeded offset (``offset_mm``, ``offset_seed``)
    so the localisation head has something to find and its selection can fail; test crops are
    centred on the point, exactly as inference crops a found target.
    """
    spec = RoiSpec.from_params(params)
    offsets = crop_offsets(targets, float(params["offset_mm"]), int(params["offset_seed"]))
    offsets[~targets["split"].isin(OFFSET_SPLITS).to_numpy()] = 0.0
    rois, index, exclusions = extract_rois(
        images.root, targets, series, spec, cpu_workers(params.get("workers")), offsets
    )
    logger.info(
        "roi: %d targets = %d ROIs %s + %d excluded; %d with a replaced neighbour slice",
        len(targets),
        len(index),
        tuple(rois.shape[1:]),
        len(exclusions),
        int(index["neighbour_replaced"].sum()),
    )
    return rois, index, exclusions


def _finetune_one(
    disc_rois: np.ndarray,
    roi_index: pd.DataFrame,
    pretrained_encoder: dict,
    params: dict[str, Any],
    variant: dict[str, Any],
) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """One variant fine-tuned (its checkpoint under ``checkpoint_dir``, by name): its weights,
    its curve (with ``variant``) and its predictions for the held-out splits."""
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


def finetune_variants(
    disc_rois: np.ndarray,
    roi_index: pd.DataFrame,
    pretrained_encoder: dict,
    recipe: Recipe,
):
    """Every variant of the recipe (``VARIANTS``: contrastive, scratch, frozen) fine-tuned in
    turn: their weights by variant (``{variant: state_dict}``), each one's curve and their
    predictions for the held-out splits in one table."""
    models, curves, tables = {}, [], []
    for variant in recipe.ordered:
        models[variant["name"]], curve, predictions = _finetune_one(
            disc_rois, roi_index, pretrained_encoder, recipe.finetuning, variant
        )
        curves.append(curve)
        tables.append(predictions)
    return models, *curves, pd.concat(tables, ignore_index=True)
