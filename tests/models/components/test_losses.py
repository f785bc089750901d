"""Losses against hand-written references over a grid of cases."""

from __future__ import annotations

import math

import pytest
import torch

from disc_grade.models.components.losses import NTXent, WeightedFocalLoss


def focal_reference(logits, target, weights, gamma):
    total = 0.0
    for row, y in zip(logits.tolist(), target.tolist(), strict=True):
        z = max(row)
        exps = [math.exp(v - z) for v in row]
        p = exps[y] / sum(exps)
        total += -weights[y] * (1 - p) ** gamma * math.log(p)
    return total / len(target)


@pytest.mark.parametrize("gamma", [0.0, 1.0, 2.0, 3.5])
@pytest.mark.parametrize("weights", [(1.0, 1.0, 1.0), (1.0, 2.0, 4.0), (0.5, 3.0, 0.0)])
@pytest.mark.parametrize("seed", [0, 1])
def test_focal_loss_matches_reference(gamma, weights, seed):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(7, 3, generator=g) * 3
    target = torch.randint(0, 3, (7,), generator=g)
    ours = WeightedFocalLoss(weights, gamma)(logits, target)
    assert float(ours) == pytest.approx(
        focal_reference(logits, target, weights, gamma), rel=1e-5, abs=1e-6
    )


def test_focal_with_gamma_zero_and_unit_weights_is_cross_entropy():
    logits = torch.randn(16, 3)
    target = torch.randint(0, 3, (16,))
    ce = torch.nn.functional.cross_entropy(logits, target)
    assert float(WeightedFocalLoss([1, 1, 1], 0.0)(logits, target)) == pytest.approx(
        float(ce), rel=1e-5
    )


def test_focal_rejects_bad_shapes_and_values():
    with pytest.raises(ValueError, match="logits must be"):
        WeightedFocalLoss([1, 1, 1])(torch.zeros(4, 2), torch.zeros(4))
    with pytest.raises(ValueError, match="gamma"):
        WeightedFocalLoss([1, 1, 1], gamma=-1)


def ntxent_reference(z1, z2, temperature):
    z = torch.nn.functional.normalize(torch.cat([z1, z2]).double(), dim=1)
    n = z1.shape[0]
    sim = (z @ z.T / temperature).tolist()
    losses = []
    for i in range(2 * n):
        positive = (i + n) % (2 * n)
        denominator = sum(math.exp(sim[i][k]) for k in range(2 * n) if k != i)
        losses.append(-(sim[i][positive] - math.log(denominator)))
    return sum(losses) / len(losses)


@pytest.mark.parametrize("temperature", [0.05, 0.1, 0.5, 1.0])
@pytest.mark.parametrize("n", [2, 5])
def test_ntxent_matches_reference(temperature, n):
    g = torch.Generator().manual_seed(n)
    z1, z2 = torch.randn(n, 8, generator=g), torch.randn(n, 8, generator=g)
    ours = float(NTXent(temperature)(z1, z2))
    assert ours == pytest.approx(ntxent_reference(z1, z2, temperature), rel=1e-4)


@pytest.mark.parametrize("temperature", [0.05, 0.1])
def test_ntxent_on_half_precision_embeddings_matches_the_float_reference(temperature):
    # close views make the loss small: computed in fp16 it loses its digits (1% off at 0.1)
    # or underflows to 0 (at 0.05); the loss must compute in float32 whatever it is handed
    g = torch.Generator().manual_seed(0)
    z1 = torch.randn(64, 128, generator=g)
    z2 = z1 + 0.3 * torch.randn(64, 128, generator=g)
    h1, h2 = z1.half(), z2.half()
    ours = NTXent(temperature)(h1, h2)
    assert ours.dtype == torch.float32
    assert float(ours) == pytest.approx(
        ntxent_reference(h1.float(), h2.float(), temperature), rel=1e-3
    )
    shuffled = float(NTXent(temperature)(h1, h2[torch.randperm(64, generator=g)]))
    assert math.isfinite(shuffled) and float(ours) < shuffled


def supcon_reference(z1, z2, labels, temperature):
    """Khosla et al. (2020), L_out: mean over anchors of -mean_p log softmax over all others."""
    z = torch.nn.functional.normalize(torch.cat([z1, z2]).double(), dim=1)
    y = labels.repeat(2)
    sim = z @ z.T / temperature
    losses = []
    for i in range(len(z)):
        others = [j for j in range(len(z)) if j != i]
        positives = [j for j in others if y[j] == y[i]]
        log_denominator = torch.logsumexp(sim[i][others], dim=0)
        losses.append(-torch.stack([sim[i][p] - log_denominator for p in positives]).mean())
    return float(torch.stack(losses).mean())


@pytest.mark.parametrize("temperature", [0.1, 0.5])
def test_supcon_matches_reference_and_leaves_out_unlabelled_rows(temperature):
    from disc_grade.models.components.losses import SupCon

    g = torch.Generator().manual_seed(3)
    z1, z2 = torch.randn(6, 8, generator=g), torch.randn(6, 8, generator=g)
    labels = torch.tensor([0, 1, 0, 2, -1, 1])
    keep = labels >= 0
    ours = float(SupCon(temperature)(z1, z2, labels))
    reference = supcon_reference(z1[keep], z2[keep], labels[keep], temperature)
    assert ours == pytest.approx(reference, rel=1e-4)
    # grade-mates pulled together score lower than the same embeddings with shuffled grades
    aligned = torch.nn.functional.one_hot(labels.clamp_min(0), 3).float() * 5 + 0.1 * z1[:, :3]
    assert float(SupCon(temperature)(aligned, aligned, labels)) < float(
        SupCon(temperature)(aligned, aligned, labels[torch.tensor([1, 0, 3, 2, 4, 5])])
    )


def test_supcon_without_two_labelled_rows_is_zero_but_keeps_the_graph():
    from disc_grade.models.components.losses import SupCon

    z = torch.randn(3, 4, requires_grad=True)
    loss = SupCon(0.1)(z, z, torch.tensor([-1, 2, -1]))
    assert float(loss) == 0.0 and loss.requires_grad
