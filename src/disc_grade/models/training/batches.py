"""Batches: which rows each step takes (per rank, per epoch), and ROI rows as a device tensor."""

from __future__ import annotations

import math

import numpy as np
import torch


def roi_batch(
    rois: np.ndarray, rows: torch.Tensor | np.ndarray, device: torch.device
) -> torch.Tensor:
    """``rois[rows]`` [B, C, H, W] as float32 on ``device`` (channels_last on CUDA)."""
    rows = rows.numpy() if isinstance(rows, torch.Tensor) else np.asarray(rows)
    x = torch.from_numpy(np.asarray(rois[rows], dtype=np.float32)).to(device)
    return x.contiguous(memory_format=torch.channels_last) if device.type == "cuda" else x


def epoch_batches(
    n_train: int, batch_size: int, seed: int, epoch: int, rank: int, world: int
) -> list[torch.Tensor]:
    """This rank's batches of row indices for one epoch; every rank gets the same number.

    The epoch's permutation is padded with its own first rows to a multiple of ``world``
    (DistributedSampler's rule), then dealt out; a trailing batch of one row is dropped on every
    rank alike (BatchNorm needs two samples).
    """
    order = torch.randperm(n_train, generator=torch.Generator().manual_seed(seed * 7919 + epoch))
    padded = math.ceil(n_train / world) * world
    if padded > n_train:  # cyclically, so even fewer rows than ranks fill every shard
        order = order.repeat(math.ceil(padded / max(n_train, 1)))[:padded]
    shard = order[rank::world]
    batches = [shard[i : i + batch_size] for i in range(0, len(shard), batch_size)]
    if len(batches) > 1 and len(batches[-1]) < 2:
        batches = batches[:-1]
    return batches
