"""Contrastive pretraining of the encoder: SimCLR's NT-Xent on unlabelled ROIs, optionally with
a supervised contrastive term (positives share the grade) on the labelled ones."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from disc_grade.models.components.augment import AugmentConfig, augmented
from disc_grade.models.components.losses import NTXent, SupCon
from disc_grade.models.components.networks import (
    ContrastiveModel,
    ProjectionHead,
    encoder_from_params,
    feature_size,
)
from disc_grade.models.training.batches import roi_batch
from disc_grade.models.training.checkpoint import run_key
from disc_grade.models.training.device import select_device, unwrap
from disc_grade.models.training.engine import LoopConfig, cosine_schedule, fit
from disc_grade.models.training.probe import probe_encoder


def pretrain_encoder(
    rois: np.ndarray,
    params: dict,
    checkpoint: Path | None = None,
    probe_set: tuple[np.ndarray, pd.DataFrame] | None = None,
    labels: np.ndarray | None = None,
) -> tuple[dict[str, torch.Tensor], pd.DataFrame]:
    """Pretrain on ROIs [N, C, H, W]; returns the encoder's weights and the loss curve.

    Two views per ROI from random geometry and scanner-appearance augmentations (the second
    optionally recentred on a neighbouring slice of the same disc), a projection head, and the
    loss ``(1 - w) * NT-Xent + w * SupCon`` with ``w = params['supervised_weight']``: NT-Xent
    over every ROI (positives: the two views of one disc), SupCon over the labelled ones
    (positives: every view of the same grade). Every key below is required: the settings live
    in ``conf/``, not in code.

    Args:
        params: ``encoder``, ``projection_hidden``, ``projection_dim``, ``temperature``, ``lr``,
            ``weight_decay``, ``augment``, ``supervised_weight`` and the loop's keys
            (``LoopConfig``).
        checkpoint: resumed when it was made from the same ROIs, parameters and code.
        probe_set: (every ROI, ``roi_index``) for a linear probe and a kNN on the frozen
            features every ``probe_every`` epochs (0: never), cross-validated by study over the
            training and validation discs; the curve records them.
        labels: the grade of each ROI, -1 where unknown; read only when ``supervised_weight``
            is above 0, which then needs them.

    Raises:
        ValueError: ``supervised_weight`` outside [0, 1], or above 0 without labels.
    """
    loop = LoopConfig.from_params(params)
    device = select_device(loop.device)
    torch.manual_seed(loop.seed)
    encoder = encoder_from_params(params["encoder"], in_channels=rois.shape[1])
    projection = ProjectionHead(
        feature_size(encoder), int(params["projection_hidden"]), int(params["projection_dim"])
    )
    model = ContrastiveModel(encoder, projection)
    weight = float(params["supervised_weight"])
    if not 0 <= weight <= 1:
        raise ValueError(f"pretraining.supervised_weight must be in [0, 1], got {weight}")
    if weight > 0 and (labels is None or not (np.asarray(labels) >= 0).any()):
        raise ValueError("pretraining.supervised_weight > 0 needs the labels of some ROIs")
    grades = torch.as_tensor(np.asarray(labels if weight > 0 else np.full(len(rois), -1)))
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=float(params["lr"]), weight_decay=float(params["weight_decay"])
    )
    trained, state = fit(
        model,
        _contrastive_step(rois, grades, params, device),
        len(rois),
        _probe_evaluator(probe_set, params, device),
        optimizer,
        loop,
        scheduler=cosine_schedule(optimizer, loop.epochs),
        checkpoint=checkpoint,
        run_key=run_key(stage="pretrain", rois=rois, params=params, labels=grades),
        device=device,
        desc="pretraining",
    )
    curve = pd.DataFrame(state.history)
    return {k: v.detach().cpu() for k, v in trained.encoder.state_dict().items()}, curve


def _contrastive_step(rois: np.ndarray, grades: torch.Tensor, params: dict, device):
    """One training step: two augmented views per ROI through the model, and the loss
    ``(1 - w) NT-Xent + w SupCon`` (``w``: ``supervised_weight``)."""
    weight = float(params["supervised_weight"])
    ntxent = NTXent(float(params["temperature"]))
    supcon = SupCon(float(params["temperature"]))
    augment = AugmentConfig.from_params(params["augment"])

    def step(net, idx, generator):
        x = roi_batch(rois, idx, device)
        views = [augmented(x, augment, generator)[0] for _ in range(2)]
        z = net(torch.cat(views))  # [2B, D]: one pass, BatchNorm sees both views
        z1, z2 = z[: len(idx)], z[len(idx) :]
        loss = ntxent(z1, z2) if weight < 1 else 0.0
        if weight > 0:
            loss = (1 - weight) * loss + weight * supcon(z1, z2, grades[idx].to(device))
        return loss

    return step


def _probe_evaluator(probe_set, params: dict, device):
    """After each epoch: every ``probe_every`` epochs the probe of the frozen features."""
    probe_every = int(params["probe_every"])
    epochs = itertools.count(1)  # the epochs of this call (fit evaluates once after each)

    def evaluate(net):
        epoch = next(epochs)
        if probe_set is None or not probe_every or epoch % probe_every:
            return {}
        return probe_encoder(unwrap(net).encoder, probe_set[0], probe_set[1], device)

    return evaluate


def drawn_labels(index: pd.DataFrame, drawn: pd.DataFrame) -> np.ndarray:
    """Per train-split row of ``index`` (in order), its grade when its study is among the
    labelled ``drawn`` rows (``subsample_training``), else -1: what a supervised pretraining term
    may read at that label budget."""
    train = index[index["split"] == "train"]
    kept = train["study_id"].isin(drawn.loc[drawn["split"] == "train", "study_id"])
    return np.where(kept, train["label"].to_numpy(dtype=np.int64), -1)
