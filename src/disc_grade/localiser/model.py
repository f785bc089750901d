"""The localiser network (MONAI UNet, heatmap per level) and decoding its output."""

from __future__ import annotations

import numpy as np
import torch

from disc_grade.rsna import LEVELS

N_LEVELS = len(LEVELS)


def build_localiser(channels, out_channels: int = N_LEVELS) -> torch.nn.Module:
    """A 2-D UNet: 3 slices + a row-coordinate map in, one heatmap per point out (the canal's
    localiser: one per level)."""
    from monai.networks.nets import UNet

    return UNet(
        spatial_dims=2,
        in_channels=4,
        out_channels=int(out_channels),
        channels=tuple(channels),
        strides=(2,) * (len(channels) - 1),
        num_res_units=1,
    )


def load_localiser(weights: dict, channels, out_channels: int = N_LEVELS) -> torch.nn.Module:
    """The localiser with ``weights`` loaded, in eval mode on CPU."""
    model = build_localiser(channels, out_channels)
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


def peak_point(logit_map: np.ndarray, window: int = 2) -> tuple[float, float, float]:
    """(grid x, grid y, confidence) of one logit map [S, S].

    The point is the probability-weighted centroid around the arg-max (spatial softmax); the
    confidence is the sigmoid of the map's largest logit.
    """
    size = logit_map.shape[0]
    r, c = np.unravel_index(int(np.argmax(logit_map)), logit_map.shape)
    r0, r1 = max(r - window, 0), min(r + window + 1, size)
    c0, c1 = max(c - window, 0), min(c + window + 1, logit_map.shape[1])
    weight = np.exp(logit_map[r0:r1, c0:c1] - logit_map[r, c])
    rr, cc = np.mgrid[r0:r1, c0:c1]
    peak = 1 / (1 + np.exp(-float(logit_map[r, c])))
    return (
        float((cc * weight).sum() / weight.sum()),
        float((rr * weight).sum() / weight.sum()),
        peak,
    )


@torch.no_grad()
def slice_logits(model: torch.nn.Module, grid: np.ndarray, batch: int = 32) -> np.ndarray:
    """[n_slices, C, S, S] logit maps of every slice of one series grid."""
    model.eval()
    grids = torch.from_numpy(np.asarray(grid, dtype=np.float32))
    n = len(grids)
    outputs = []
    for start in range(0, n, batch):
        ranks = torch.arange(start, min(start + batch, n))
        x = network_input(grids, torch.zeros_like(ranks), ranks, torch.full_like(ranks, n))
        outputs.append(model(x).float().numpy())
    return np.concatenate(outputs)


def confidences(maps: np.ndarray) -> np.ndarray:
    """[n_slices, C] sigmoid of each map's largest logit."""
    return 1 / (1 + np.exp(-maps.reshape(*maps.shape[:2], -1).max(axis=2)))
