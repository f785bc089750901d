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


def test_shift_slices_moves_each_stack_by_at_most_one_slice_and_repeats_the_edge():
    from disc_grade.models.components.augment import shift_slices

    x = torch.arange(3, dtype=torch.float32).view(1, 3, 1, 1).repeat(64, 1, 2, 2)  # slice k = k
    out = shift_slices(x, torch.Generator().manual_seed(0))[:, :, 0, 0]
    seen = {tuple(row.tolist()) for row in out}
    assert seen == {(0.0, 1.0, 2.0), (0.0, 0.0, 1.0), (1.0, 2.0, 2.0)}
    single = torch.ones(4, 1, 2, 2)
    assert torch.equal(shift_slices(single, torch.Generator().manual_seed(0)), single)


def test_slice_jitter_moves_a_share_of_the_stacks_by_exactly_one_slice():
    from disc_grade.models.components.augment import jitter_slices

    x = torch.arange(3, dtype=torch.float32).view(1, 3, 1, 1).repeat(2000, 1, 2, 2)  # slice k = k
    out = jitter_slices(x, 0.5, torch.Generator().manual_seed(0))[:, :, 0, 0]
    rows = [tuple(row.tolist()) for row in out]
    assert set(rows) == {(0.0, 1.0, 2.0), (0.0, 0.0, 1.0), (1.0, 2.0, 2.0)}
    down, up = rows.count((0.0, 0.0, 1.0)), rows.count((1.0, 2.0, 2.0))
    assert abs((down + up) / len(rows) - 0.5) < 0.05, "about half the stacks move"
    assert abs(down - up) < 0.1 * (down + up), "up and down evenly"
    every = jitter_slices(x, 1.0, torch.Generator().manual_seed(0))[:, 1, 0, 0]
    assert not (every == 1.0).any(), "probability 1 moves every stack"


def test_no_slice_jitter_draws_nothing_so_the_other_augmentations_are_unchanged():
    from disc_grade.models.components.augment import augmented

    x = torch.rand(8, 3, 32, 32)
    cfg = AugmentConfig(gamma=0.3, rotation_deg=10, shift=0.1)
    generator = torch.Generator().manual_seed(5)
    by_hand = appearance(warp(x, random_affine(8, cfg, generator, "cpu")), cfg, generator)
    off = augmented(x, cfg, torch.Generator().manual_seed(5))[0]
    on = augmented(
        x, AugmentConfig(**{**cfg.__dict__, "slice_shift": 1.0}), torch.Generator().manual_seed(5)
    )[0]
    assert torch.equal(by_hand, off), "the stream of the augmentations before slice jitter"
    assert not torch.equal(off, on)


def test_a_slice_shift_outside_zero_to_one_is_refused_by_name():
    import pytest

    with pytest.raises(ValueError, match="slice_shift"):
        AugmentConfig.from_params({"slice_shift": 1.5})
