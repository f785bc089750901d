"""Scanner-appearance and geometry augmentations, batched on the training device.

Everything is a tensor op over the whole batch (no per-sample Python loop), with randomness
from an explicit ``torch.Generator`` so runs are reproducible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class AugmentConfig:
    """Ranges of each augmentation; zero (the default) disables it. The ranges live in ``conf/``."""

    gamma: float = 0.0  # log-uniform gamma in [exp(-g), exp(g)]
    contrast: float = 0.0  # multiplicative, uniform in [1-c, 1+c]
    brightness: float = 0.0  # additive, uniform in [-b, b]
    bias_field: float = 0.0  # amplitude of a random low-order multiplicative field
    noise: float = 0.0  # max std of additive Gaussian noise
    blur: float = 0.0  # max Gaussian sigma (px), simulating lower resolution
    rotation_deg: float = 0.0
    scale: float = 0.0  # uniform in [1-s, 1+s]
    shift: float = 0.0  # fraction of the ROI half-width

    @classmethod
    def from_params(cls, params: dict | None) -> AugmentConfig:
        params = dict(params or {})
        unknown = set(params) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown augmentation parameter(s) {sorted(unknown)}")
        return cls(**{k: float(v) for k, v in params.items()})


def _uniform(n: int, low: float, high: float, generator: torch.Generator, device) -> torch.Tensor:
    return torch.rand(n, generator=generator, device=device) * (high - low) + low


def appearance(x: torch.Tensor, cfg: AugmentConfig, generator: torch.Generator) -> torch.Tensor:
    """Contrast, gamma, bias field, blur and noise on a batch [B, C, H, W] of [0, 1]-ish ROIs."""
    b, _, h, w = x.shape
    dev = x.device
    x = x.clamp_min(0)
    if cfg.gamma:
        gamma = torch.exp(_uniform(b, -cfg.gamma, cfg.gamma, generator, dev)).view(b, 1, 1, 1)
        x = x.pow(gamma)
    if cfg.bias_field:
        yy = torch.linspace(-1, 1, h, device=dev).view(1, h, 1)
        xx = torch.linspace(-1, 1, w, device=dev).view(1, 1, w)
        c = _uniform(b * 5, -cfg.bias_field, cfg.bias_field, generator, dev).view(5, b, 1, 1)
        field = torch.exp(c[0] * xx + c[1] * yy + c[2] * xx * yy + c[3] * xx**2 + c[4] * yy**2)
        x = x * field.unsqueeze(1)
    if cfg.contrast or cfg.brightness:
        scale = _uniform(b, 1 - cfg.contrast, 1 + cfg.contrast, generator, dev).view(b, 1, 1, 1)
        shift = _uniform(b, -cfg.brightness, cfg.brightness, generator, dev).view(b, 1, 1, 1)
        x = x * scale + shift
    if cfg.blur:
        x = _random_blur(x, cfg.blur, generator)
    if cfg.noise:
        sigma = _uniform(b, 0, cfg.noise, generator, dev).view(b, 1, 1, 1)
        x = x + sigma * torch.randn(x.shape, generator=generator, device=dev)
    return x


def _random_blur(x: torch.Tensor, max_sigma: float, generator: torch.Generator) -> torch.Tensor:
    """Separable Gaussian blur with a per-sample sigma in [0, max_sigma], as grouped convolutions."""
    b, c, h, w = x.shape
    sigma = _uniform(b, 1e-3, max_sigma, generator, x.device)
    radius = max(1, math.ceil(2 * max_sigma))
    taps = torch.arange(-radius, radius + 1, device=x.device, dtype=x.dtype)
    kernel = torch.exp(-0.5 * (taps.view(1, -1) / sigma.view(-1, 1)) ** 2)
    kernel = kernel / kernel.sum(dim=1, keepdim=True)  # [B, K]
    kernel = kernel.repeat_interleave(c, dim=0)  # [B*C, K]
    flat = x.reshape(1, b * c, h, w)
    flat = F.conv2d(
        F.pad(flat, (radius, radius, 0, 0), mode="replicate"),
        kernel.view(b * c, 1, 1, -1),
        groups=b * c,
    )
    flat = F.conv2d(
        F.pad(flat, (0, 0, radius, radius), mode="replicate"),
        kernel.view(b * c, 1, -1, 1),
        groups=b * c,
    )
    return flat.view(b, c, h, w)


def random_affine(b: int, cfg: AugmentConfig, generator: torch.Generator, device) -> torch.Tensor:
    """[B, 2, 3] matrices mapping output to input normalised coordinates (``affine_grid``'s ``theta``)."""
    angle = torch.deg2rad(_uniform(b, -cfg.rotation_deg, cfg.rotation_deg, generator, device))
    scale = _uniform(b, 1 - cfg.scale, 1 + cfg.scale, generator, device)
    shift = _uniform(b * 2, -cfg.shift, cfg.shift, generator, device).view(b, 2)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1
    )
    return theta


def warp(x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Resample a batch with ``theta``; outside the ROI is zero (the normalised background)."""
    grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def augmented(
    x: torch.Tensor, cfg: AugmentConfig, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """A random geometry, then scanner appearance, on a batch; returns the batch and the affine
    ``theta`` drawn (to move points or target maps with it). Every training stage augments this
    way, and the augmentation audit measures exactly this."""
    theta = random_affine(len(x), cfg, generator, x.device)
    return appearance(warp(x, theta), cfg, generator), theta


def warp_points(points: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Where normalised points [B, 2] (x, y) land after :func:`warp` with ``theta``.

    ``theta`` maps output to input coordinates, so the point moves by its inverse.
    """
    a, t = theta[:, :, :2], theta[:, :, 2]
    return torch.linalg.solve(a, (points - t).unsqueeze(-1)).squeeze(-1)


def pixels_to_normalised(points_px: torch.Tensor, size_px: int) -> torch.Tensor:
    """ROI pixel coordinates (centres at integers) to ``[-1, 1]`` as ``align_corners=False`` reads them."""
    return (2 * points_px + 1) / size_px - 1


def normalised_to_pixels(points: torch.Tensor, size_px: int) -> torch.Tensor:
    """Inverse of :func:`pixels_to_normalised`."""
    return ((points + 1) * size_px - 1) / 2
