"""Node: a condition's contrastive encoder on its train-split ROIs, probed and audited."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from disc_grade.models.components.augment import AugmentConfig
from disc_grade.models.components.augment_audit import audit_augmentations, violations
from disc_grade.models.training.curves import curve_figure
from disc_grade.models.training.device import select_device
from disc_grade.models.training.pretrain import pretrain_encoder
from disc_grade.models.training.probe import CHANCE, compromise_per_roi, probe_weights
from disc_grade.models.training.recipe import Recipe

logger = logging.getLogger(__name__)


def pretrain_contrastive_encoder(
    disc_rois: np.ndarray,
    roi_index: pd.DataFrame,
    phantom_truth: pd.DataFrame,
    recipe: Recipe,
):
    """Pretrain on the train split only (no validation or test ROI is seen), with the recipe's
    ``pretraining`` block.

    Labels are read only with ``supervised_weight`` above 0 (the SupCon term), and then only
    the train split's.

    A linear probe and a kNN on the frozen features (cross-validated by study over the training
    and validation discs) say what the encoder learnt about the grade; a probe within
    ``probe_failure_margin`` of chance marks the run as failed, in the log and in
    ``pretraining_probe.json``. The views are audited first: an augmentation that moves the
    canal compromise a reader sees by more than ``augment_audit_bound`` is named in the log.
    """
    params = recipe.pretraining
    rows = np.flatnonzero(roi_index["split"].to_numpy() == "train")
    if len(rows) < 4:
        raise ValueError(f"pretraining needs at least 4 train-split ROIs, got {len(rows)}")
    checkpoint = Path(params["checkpoint"]) if params.get("checkpoint") else None
    rois = np.asarray(disc_rois)
    audit = audit_views(params, rois.shape[-1], float(roi_index["roi_mm_per_px"].median()))
    labels = roi_index["label"].to_numpy(dtype=np.int64)[rows]
    weights, curve = pretrain_encoder(
        rois[rows], params, checkpoint=checkpoint, probe_set=(rois, roi_index), labels=labels
    )
    compromise = compromise_per_roi(roi_index, phantom_truth)  # None on real data
    probe = {**final_probe(weights, rois, roi_index, params, compromise), **audit}
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
    weight = float(params["supervised_weight"])
    loss = "NT-Xent" if weight == 0 else f"{1 - weight:g} NT-Xent + {weight:g} SupCon"
    title = f"Contrastive pretraining ({loss}) and what the frozen features know"
    return weights, curve, curve_figure({"contrastive pretraining": curve}, title), probe


def audit_views(params: dict, size_px: int, mm_per_px: float) -> dict:
    """The augmentation audit of the pretraining views at the ROIs' scale, logged."""
    bound = float(params["augment_audit_bound"])
    distortion = audit_augmentations(
        AugmentConfig.from_params(params["augment"]), size_px, size_px * mm_per_px
    )
    broken = violations(distortion, bound)
    if broken:
        logger.warning(
            "pretraining views change the grade's evidence: %s move the visible canal compromise "
            "by more than %.2f of the AP diameter (models/augment_audit.py); shrink them",
            ", ".join(f"{k} ({v:.3f})" for k, v in broken.items()),
            bound,
        )
    return {"augment_audit": distortion, "augment_audit_bound": bound, "augment_violations": broken}


def final_probe(
    weights: dict,
    rois: np.ndarray,
    index: pd.DataFrame,
    params: dict,
    compromise: np.ndarray | None = None,
) -> dict:
    """The probe of the encoder pretraining returns, with the verdict, beside the same probe on
    a randomly initialised encoder (random convolutions already keep some grade information:
    that is the floor pretraining has to clear, not only chance)."""
    device = select_device(params["device"])
    seed = int(params["seed"])
    floor = probe_weights(params["encoder"], None, rois, index, device, compromise, seed)
    scores = probe_weights(params["encoder"], weights, rois, index, device, compromise, seed)
    failed = not scores["probe_balanced_accuracy"] > CHANCE + float(params["probe_failure_margin"])
    return {
        **scores,
        **{f"random_init_{k}": v for k, v in floor.items()},
        "chance": CHANCE,
        "failed": bool(failed),
        "beats_random_init": bool(
            scores["probe_balanced_accuracy"] > floor["probe_balanced_accuracy"]
        ),
    }
