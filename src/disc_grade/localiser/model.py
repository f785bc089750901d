"""The localiser network (MONAI UNet, heatmap per level) and decoding its output."""

from __future__ import annotations

import numpy as np
import torch

from disc_grade.rsna import LEVELS

N_LEVELS = len(LEVELS)


def build_localiser(channels) -> torch.nn.Module:
    """A 2-D UNet: 3 slices + a cranio-caudal coordinate map in, one heatmap per level out."""
    from monai.networks.nets import UNet

    return UNet(
        spatial_dims=2,
        in_channels=4,
        out_channels=N_LEVELS,
        channels=tuple(channels),
        strides=(2,) * (len(channels) - 1),
        num_res_units=1,
    )


def load_localiser(weights: dict, channels) -> torch.nn.Module:
    """The localiser with ``weights`` loaded, in eval mode on CPU."""
    model = build_localiser(channels)
    model.load_state_dict(weights)
    return model.eval()


def network_input(
    grids: torch.Tensor, offsets: torch.Tensor, ranks: torch.Tensor, n_slices: torch.Tensor
) -> torch.Tensor:
    """[B, 4, S, S]: slice ``rank`` and its neighbours (clamped within the series) plus a row-coordinate map."""
    picks = [grids[offsets + (ranks + d).clamp(min=0).minimum(n_slices - 1)] for d in (-1, 0, 1)]
    x = torch.stack(picks, dim=1).float()  # [B, 3, S, S]
    size = x.shape[-1]
    coord = (
        torch.linspace(-1, 1, size, device=x.device)
        .view(1, 1, size, 1)
        .expand(x.shape[0], 1, size, size)
    )
    return torch.cat([x, coord], dim=1)


def heatmaps(points: torch.Tensor, size: int, sigma: float) -> torch.Tensor:
    """[B, L, S, S] Gaussian heatmaps (peak 1) at grid points [B, L, 2]; NaN points give zeros."""
    axis = torch.arange(size, dtype=torch.float32, device=points.device)
    gx = points[..., 0, None, None]
    gy = points[..., 1, None, None]
    maps = torch.exp(
        -((axis.view(1, 1, 1, -1) - gx) ** 2 + (axis.view(1, 1, -1, 1) - gy) ** 2) / (2 * sigma**2)
    )
    return torch.nan_to_num(maps, nan=0.0)


def decode(logits: np.ndarray, window: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Points [L, 2] (grid x, y) and confidences [L] from per-level logit maps [L, S, S].

    Each level's point is the probability-weighted centroid around its arg-max (spatial softmax);
    its confidence is the sigmoid of the map's largest logit. Levels run down the spine: where the
    channels disagree with that order, the points are ordered by height.
    """
    n, size, _ = logits.shape
    points = np.zeros((n, 2))
    peaks = np.zeros(n)
    for k in range(n):
        r, c = np.unravel_index(int(np.argmax(logits[k])), logits[k].shape)
        peaks[k] = 1 / (1 + np.exp(-float(logits[k, r, c])))
        r0, r1, c0, c1 = (
            max(r - window, 0),
            min(r + window + 1, size),
            max(c - window, 0),
            min(c + window + 1, size),
        )
        weight = np.exp(logits[k, r0:r1, c0:c1] - logits[k, r, c])
        rr, cc = np.mgrid[r0:r1, c0:c1]
        points[k] = [(cc * weight).sum() / weight.sum(), (rr * weight).sum() / weight.sum()]
    order = np.argsort(points[:, 1], kind="stable")
    return points[order], peaks[order]


@torch.no_grad()
def localise(model: torch.nn.Module, grid: np.ndarray, batch: int = 32) -> dict:
    """Best slice (highest summed level confidences), its points on the grid, and the confidences."""
    model.eval()
    grids = torch.from_numpy(np.asarray(grid, dtype=np.float32))
    n = len(grids)
    outputs = []
    for start in range(0, n, batch):
        ranks = torch.arange(start, min(start + batch, n))
        x = network_input(grids, torch.zeros_like(ranks), ranks, torch.full_like(ranks, n))
        outputs.append(model(x).float().numpy())
    maps = np.concatenate(outputs)  # [n, L, S, S] logits
    scores = (1 / (1 + np.exp(-maps.reshape(n, maps.shape[1], -1).max(axis=2)))).sum(axis=1)
    best = int(np.argmax(scores))
    points, peaks = decode(maps[best])
    return {"rank": best, "points": points, "peaks": peaks, "slice_scores": scores}
