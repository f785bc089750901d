"""Losses: class-weighted focal loss (MONAI); NT-Xent and supervised contrastive (pytorch-metric-learning)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class WeightedFocalLoss(nn.Module):
    """Softmax focal loss with per-class weights, averaged over the batch.

    ``loss_i = -w_{y_i} (1 - p_{i,y_i})^gamma log p_{i,y_i}``, mean over ``i``. Built on MONAI's
    ``FocalLoss(use_softmax=True)`` with ``reduction="none"``: MONAI's own ``mean`` also divides
    by the number of classes.
    """

    def __init__(self, weights: Sequence[float], gamma: float = 2.0) -> None:
        super().__init__()
        from monai.losses import FocalLoss

        if gamma < 0 or any(w < 0 for w in weights):
            raise ValueError(
                f"focal loss needs gamma >= 0 and weights >= 0, got {gamma}, {list(weights)}"
            )
        self.n_classes = len(weights)
        self.loss = FocalLoss(
            use_softmax=True, to_onehot_y=True, gamma=gamma, weight=list(weights), reduction="none"
        )

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if logits.ndim != 2 or logits.shape[1] != self.n_classes:
            raise ValueError(f"logits must be [B, {self.n_classes}], got {tuple(logits.shape)}")
        per_class = self.loss(
            logits.float(), target.long().view(-1, 1)
        )  # [B, C]: non-zero at the true class
        return per_class.sum(dim=1).mean()


class NTXent(nn.Module):
    """NT-Xent over two views: ``z1[i]`` and ``z2[i]`` are the positive pair, all else negatives."""

    def __init__(self, temperature: float = 0.1) -> None:
        super().__init__()
        from pytorch_metric_learning.losses import NTXentLoss

        if temperature <= 0:
            raise ValueError(f"pretraining.temperature must be > 0, got {temperature}")
        self.loss = NTXentLoss(temperature=temperature)

    def forward(self, z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:  # [B, D] each
        embeddings = torch.cat([z1, z2]).float()
        labels = torch.arange(z1.shape[0], device=z1.device).repeat(2)
        return self.loss(embeddings, labels)


class SupCon(nn.Module):
    """Supervised contrastive loss over two views: positives share the label (grade).

    Rows whose label is negative (unlabelled) are left out; with fewer than two labelled rows
    the loss is zero (and still part of the graph, so DDP sees every parameter used).
    """

    def __init__(self, temperature: float = 0.1) -> None:
        super().__init__()
        from pytorch_metric_learning.losses import SupConLoss

        if temperature <= 0:
            raise ValueError(f"pretraining.temperature must be > 0, got {temperature}")
        self.loss = SupConLoss(temperature=temperature)

    def forward(self, z1: torch.Tensor, z2: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        keep = labels >= 0
        if int(keep.sum()) < 2:
            return (z1.sum() + z2.sum()) * 0.0
        embeddings = torch.cat([z1[keep], z2[keep]]).float()
        return self.loss(embeddings, labels[keep].repeat(2))
