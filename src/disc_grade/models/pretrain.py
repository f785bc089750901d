"""SimCLR-style contrastive pretraining of the encoder on unlabelled ROIs."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from disc_grade.models.augment import AugmentConfig, appearance, random_affine, warp
from disc_grade.models.batches import roi_batch
from disc_grade.models.checkpoint import run_key
from disc_grade.models.device import select_device, unwrap
from disc_grade.models.engine import LoopConfig, cosine_schedule, fit
from disc_grade.models.losses import NTXent
from disc_grade.models.networks import (
    ContrastiveModel,
    ProjectionHead,
    encoder_from_params,
    feature_size,
)
from disc_grade.models.probe import probe_encoder


def pretrain_encoder(
    rois: np.ndarray,
    params: dict,
    checkpoint: Path | None = None,
    probe_set: tuple[np.ndarray, pd.DataFrame] | None = None,
) -> tuple[dict[str, torch.Tensor], pd.DataFrame]:
    """Pretrain on unlabelled ROIs [N, C, H, W]; returns the encoder's weights and the loss curve.

    Two views per ROI from random geometry and scanner-appearance augmentations, a projection
    head, and NT-Xent with ``params['temperature']``. Every key below is required: the settings
    live in ``conf/``, not in code.

    Args:
        params: ``encoder``, ``projection_hidden``, ``projection_dim``, ``temperature``, ``lr``,
            ``weight_decay``, ``augment`` and the loop's keys (``LoopConfig``).
        checkpoint: resumed when it was made from the same ROIs, parameters and code.
        probe_set: (every ROI, ``roi_index``) for a linear probe and a kNN on the frozen
            features every ``probe_every`` epochs (0: never), cross-validated by study over the
            training and validation discs; the curve records them. Training reads no label.
    """
    loop = LoopConfig.from_params(params)
    device = select_device(loop.device)
    torch.manual_seed(loop.seed)
    encoder = encoder_from_params(params["encoder"], in_channels=rois.shape[1])
    projection = ProjectionHead(
        feature_size(encoder), int(params["projection_hidden"]), int(params["projection_dim"])
    )
    model = ContrastiveModel(encoder, projection)
    criterion = NTXent(float(params["temperature"]))
    augment = AugmentConfig.from_params(params["augment"])
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=float(params["lr"]), weight_decay=float(params["weight_decay"])
    )

    def step(net, idx, generator):
        x = roi_batch(rois, idx, device)
        views = []
        for _ in range(2):
            theta = random_affine(len(idx), augment, generator, device)
            views.append(appearance(warp(x, theta), augment, generator))
        z = net(torch.cat(views))  # [2B, D]: one pass, BatchNorm sees both views
        return criterion(z[: len(idx)], z[len(idx) :])

    probe_every = int(params["probe_every"])

    epochs = itertools.count(1)  # the epochs of this call (fit evaluates once after each)

    def evaluate(net):
        epoch = next(epochs)
        if probe_set is None or not probe_every or epoch % probe_every:
            return {}
        return probe_encoder(unwrap(net).encoder, probe_set[0], probe_set[1], device)

    trained, state = fit(
        model,
        step,
        len(rois),
        evaluate,
        optimizer,
        loop,
        scheduler=cosine_schedule(optimizer, loop.epochs),
        checkpoint=checkpoint,
        run_key=run_key(stage="pretrain", rois=rois, params=params),
        device=device,
        desc="pretraining",
    )
    curve = pd.DataFrame(state.history)
    return {k: v.detach().cpu() for k, v in trained.encoder.state_dict().items()}, curve
