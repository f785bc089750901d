"""Adaptation without labels to a new scanner: BatchNorm statistics re-estimated on its crops.

A grader's BatchNorm layers normalise with the mean and variance they saw in training; a scanner
whose crops differ in contrast, noise or texture shifts those statistics and with them every
later layer. AdaBN (Li et al., 2016) re-estimates each layer's statistics on the new domain's
unlabelled inputs and keeps every learnt weight: no label, no gradient, one pass over the crops.
"""

from __future__ import annotations

import copy
import logging

import numpy as np
import torch
from torch import nn

from disc_grade.models.training.batches import roi_batch

logger = logging.getLogger(__name__)
MIN_CROPS = 16  # below this a batch's statistics are noise, not a site's


def batchnorm_layers(model: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    """The model's BatchNorm layers, in order."""
    return [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


def adapt_batchnorm(
    model: nn.Module,
    rois: np.ndarray,
    device: torch.device,
    batch_size: int = 64,
    min_crops: int = MIN_CROPS,
) -> nn.Module:
    """A copy of ``model`` whose BatchNorm statistics are those of ``rois``, in eval mode;
    ``model`` is left as it was. The statistics are PyTorch's cumulative average over batches
    of ``batch_size``: each batch weighs the same, so the last, smaller one a little more per
    crop; a last batch of one crop is skipped (it has no variance).

    With fewer than ``min_crops`` crops (or no BatchNorm layer) the copy keeps the training
    statistics, and the log says so.
    """
    adapted = copy.deepcopy(model).to(device).eval()
    layers = batchnorm_layers(adapted)
    if not layers or len(rois) < min_crops:
        logger.warning(
            "BatchNorm adaptation skipped: %d crops (needs %d), %d BatchNorm layers",
            len(rois),
            min_crops,
            len(layers),
        )
        return adapted
    for layer in layers:
        layer.reset_running_stats()
        layer.momentum = None  # cumulative average over the batches below
        layer.train()
    rows = np.arange(len(rois))
    with torch.no_grad():
        for start in range(0, len(rows), batch_size):
            batch = rows[start : start + batch_size]
            if len(batch) < 2:
                continue
            adapted(roi_batch(rois, batch, device))
    for layer in layers:
        layer.eval()
    return adapted
