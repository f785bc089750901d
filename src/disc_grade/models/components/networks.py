"""The encoder (MONAI ResNet, 2-D, stride-2 stem) and the heads built on it."""

from __future__ import annotations

import torch
from torch import nn

N_CLASSES = 3


def build_encoder(depth: int = 18, in_channels: int = 3, stem_stride: int = 2) -> nn.Module:
    """A 2-D MONAI ResNet without its classifier; ``forward`` returns pooled features [B, F].

    Raises:
        ValueError: an unsupported depth.
    """
    from monai.networks.nets import resnet10, resnet18, resnet34

    factories = {10: resnet10, 18: resnet18, 34: resnet34}
    if depth not in factories:
        raise ValueError(f"encoder.depth must be one of {sorted(factories)}, got {depth}")
    return factories[depth](
        spatial_dims=2, n_input_channels=in_channels, conv1_t_stride=stem_stride, feed_forward=False
    )


ENCODER_KEYS = ("depth", "stem_stride")


def encoder_from_params(params: dict | None, in_channels: int) -> nn.Module:
    """The encoder a stage's ``encoder`` block names (``depth``, ``stem_stride``).

    Raises:
        ValueError: an unknown key or an unsupported depth.
    """
    params = dict(params or {})
    unknown = set(params) - set(ENCODER_KEYS)
    if unknown:
        raise ValueError(
            f"unknown encoder parameter(s) {sorted(unknown)}; known: {', '.join(ENCODER_KEYS)}"
        )
    return build_encoder(**{k: int(v) for k, v in params.items()}, in_channels=in_channels)


def feature_size(encoder: nn.Module) -> int:
    """Width of the encoder's pooled features."""
    return int(
        encoder.layer4[-1].conv2.out_channels if hasattr(encoder.layer4[-1], "conv2") else 512
    )


class ProjectionHead(nn.Module):
    """SimCLR projection MLP: features [B, F] -> embeddings [B, out]."""

    def __init__(self, in_features: int, hidden: int = 256, out_features: int = 128) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(in_features, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, out_features)
        )

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.net(features)


class ContrastiveModel(nn.Module):
    """Encoder + projection head, trained without labels."""

    def __init__(self, encoder: nn.Module, projection: ProjectionHead) -> None:
        super().__init__()
        self.encoder = encoder
        self.projection = projection

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, C, H, W] -> [B, out]
        return self.projection(self.encoder(x))


class DiscGrader(nn.Module):
    """Encoder + severity head (3 logits) + localisation head (point in [-1, 1] ROI coordinates)."""

    def __init__(self, encoder: nn.Module, dropout: float = 0.2) -> None:
        super().__init__()
        width = feature_size(encoder)
        self.encoder = encoder
        self.severity = nn.Sequential(nn.Dropout(dropout), nn.Linear(width, N_CLASSES))
        self.point = nn.Sequential(nn.Linear(width, 128), nn.ReLU(inplace=True), nn.Linear(128, 2))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.encoder(x)  # [B, F]
        return self.severity(features), self.point(features)  # [B, 3], [B, 2] as (x, y)
