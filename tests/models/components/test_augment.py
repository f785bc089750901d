from __future__ import annotations

import torch

from disc_grade.models.components.augment import (
    AugmentConfig,
    appearance,
    normalised_to_pixels,
    pixels_to_normalised,
    random_affine,
    warp,
    warp_points,
)


def test_warped_point_follows_the_image():
    size = 48
    x = torch.zeros(6, 1, size, size)
    point = torch.tensor([[20.0, 27.0]] * 6)  # (x, y) px
    rows, cols = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    x[:, 0] = torch.exp(-((cols - 20.0) ** 2 + (rows - 27.0) ** 2) / 4.0)
    cfg = AugmentConfig(rotation_deg=20, scale=0.15, shift=0.2)
    theta = random_affine(6, cfg, torch.Generator().manual_seed(0), "cpu")
    moved = warp(x, theta)
    target = normalised_to_pixels(warp_points(pixels_to_normalised(point, size), theta), size)
    for i in range(6):
        flat = int(torch.argmax(moved[i, 0]))
        peak = torch.tensor([flat % size, flat // size], dtype=torch.float32)
        assert torch.dist(peak, target[i]) <= 1.5


def test_appearance_is_batched_and_seeded():
    x = torch.rand(8, 3, 32, 32)
    cfg = AugmentConfig(
        gamma=0.3, contrast=0.2, brightness=0.1, bias_field=0.2, noise=0.05, blur=1.0
    )
    a = appearance(x, cfg, torch.Generator().manual_seed(3))
    b = appearance(x, cfg, torch.Generator().manual_seed(3))
    c = appearance(x, cfg, torch.Generator().manual_seed(4))
    assert a.shape == x.shape and torch.equal(a, b) and not torch.equal(a, c)
    assert not torch.allclose(a[0] - x[0], a[1] - x[1]), "each sample gets its own draw"
