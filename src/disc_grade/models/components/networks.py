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


ENCODER_KEYS = ("depth", "stem_stride", "window")


def encoder_from_params(params: dict | None, in_channels: int) -> nn.Module:
    """The encoder a stage's ``encoder`` block names (``depth``, ``stem_stride``, ``window``).

    ``window`` (0 or absent: the whole stack is one 2.5D input) reads a stack of more slices
    than that as a sequence of ``window``-slice 2.5D inputs (``SliceSequenceEncoder``).

    Raises:
        ValueError: an unknown key, an unsupported depth, or a window that is not an odd
            number of slices no larger than the stack.
    """
    params = dict(params or {})
    unknown = set(params) - set(ENCODER_KEYS)
    if unknown:
        raise ValueError(
            f"unknown encoder parameter(s) {sorted(unknown)}; known: {', '.join(ENCODER_KEYS)}"
        )
    window = int(params.pop("window", 0) or 0)
    if window and (window % 2 == 0 or window > in_channels):
        raise ValueError(
            f"encoder.window must be 0 or an odd number of slices <= the ROI's {in_channels}, "
            f"got {window}"
        )
    settings = {k: int(v) for k, v in params.items()}
    if not window or window == in_channels:
        return build_encoder(**settings, in_channels=in_channels)
    backbone = build_encoder(**settings, in_channels=window)
    return SliceSequenceEncoder(backbone, n_slices=in_channels, window=window)


def feature_size(encoder: nn.Module) -> int:
    """Width of the encoder's pooled features."""
    if isinstance(encoder, SliceSequenceEncoder):
        return feature_size(encoder.backbone)
    return int(
        encoder.layer4[-1].conv2.out_channels if hasattr(encoder.layer4[-1], "conv2") else 512
    )


class SliceSequenceEncoder(nn.Module):
    """A stack of ``n_slices`` consecutive slices [B, S, H, W] read as the sequence of its
    ``window``-slice 2.5D inputs (S - window + 1 of them, one slice apart): one 2-D encoder for
    all of them, each window's features marked with its place, then pooled by attention over
    the windows into [B, F]. The stack's size is kept as a buffer, so saved weights name it."""

    def __init__(self, backbone: nn.Module, n_slices: int, window: int) -> None:
        super().__init__()
        self.backbone = backbone
        self.window = int(window)
        self.register_buffer("n_slices", torch.tensor(int(n_slices)))
        width = feature_size(backbone)
        self.position = nn.Parameter(torch.zeros(int(n_slices) - self.window + 1, width))
        self.attention = nn.Sequential(nn.Linear(width, 64), nn.Tanh(), nn.Linear(64, 1))

    def windows(self, x: torch.Tensor) -> torch.Tensor:
        """[B, S, H, W] -> [B * n_windows, window, H, W], window by window within each sample."""
        b, _, h, w = x.shape
        return x.unfold(1, self.window, 1).permute(0, 1, 4, 2, 3).reshape(-1, self.window, h, w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] != int(self.n_slices):
            raise ValueError(f"expected {int(self.n_slices)} slices, got {x.shape[1]}")
        features = self.backbone(self.windows(x)).view(len(x), len(self.position), -1)
        features = features + self.position
        weights = torch.softmax(self.attention(features), dim=1)  # [B, n_windows, 1]
        return (weights * features).sum(dim=1)


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
