"""Train a localiser (any condition's) with the project's one training loop."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from disc_grade.localiser.model import build_localiser, heatmaps, network_input
from disc_grade.models.components.augment import AugmentConfig, augmented, warp
from disc_grade.models.training.device import select_device
from disc_grade.models.training.engine import LoopConfig, cosine_schedule, fit


def training_samples(
    units: pd.DataFrame, rank_columns: list[str], negatives: int, seed: int, gap: int = 2
) -> pd.DataFrame:
    """Slices to train on: each unit's labelled slices twice, and per series ``negatives`` slices.

    A unit is one series (the canal), one side of a series (the foramina) or one level of a
    series (the recesses); ``rank_columns`` hold the slice rank of each of its points (-1 where
    unlabelled). On a labelled slice a point is present where it is labelled there, absent
    where it is labelled on another slice, and not scored where it is unlabelled. Negatives
    lie ``gap`` or more slices from every labelled slice of their series: no point is present.

    Returns:
        one row per sample: ``offset, rank, n_slices, series_row`` (the unit) and per point
        ``present_k`` and ``known_k``.
    """
    rng = np.random.default_rng(seed)
    ranks = units[rank_columns].to_numpy(dtype=np.int64)
    n_points = len(rank_columns)
    rows = []
    by_series: dict = {}
    for i, key in enumerate(zip(units["study_id"], units["series_id"], strict=True)):
        by_series.setdefault(key, []).append(i)
    for members in by_series.values():
        for i in members:
            unit = units.iloc[i]
            known = ranks[i] >= 0
            for r in sorted(set(ranks[i][known].tolist())):
                row = (int(unit["offset"]), r, int(unit["n_slices"]), i)
                rows += [(*row, *(ranks[i] == r), *known)] * 2
        first = units.iloc[members[0]]
        labelled = set(ranks[members][ranks[members] >= 0].tolist())
        far = [r for r in range(int(first["n_slices"])) if all(abs(r - k) >= gap for k in labelled)]
        for r in rng.permutation(far)[:negatives]:
            row = (int(first["offset"]), int(r), int(first["n_slices"]), members[0])
            rows.append((*row, *[False] * n_points, *[True] * n_points))
    columns = ["offset", "rank", "n_slices", "series_row"]
    columns += [f"present_{k}" for k in range(n_points)] + [f"known_{k}" for k in range(n_points)]
    return pd.DataFrame(rows, columns=columns)


def _heatmap_step(slices: np.ndarray, samples: pd.DataFrame, points: torch.Tensor, params, device):
    """One training step: the spatial cross-entropy of each present point's heatmap (while its
    label is in view after augmentation) plus ``presence_weight`` times the presence term."""
    augment = AugmentConfig.from_params(params["augment"])
    sigma = float(params["sigma"])
    size = slices.shape[-1]
    grids = torch.from_numpy(np.asarray(slices))
    n_points = points.shape[1]
    present_columns = [f"present_{k}" for k in range(n_points)]
    known_columns = [f"known_{k}" for k in range(n_points)]

    def step(net, idx, generator):
        batch = samples.iloc[idx.numpy()]
        t = lambda c: torch.as_tensor(batch[c].to_numpy(dtype=np.int64))  # noqa: E731
        mask = lambda c: torch.as_tensor(  # noqa: E731
            batch[c].to_numpy(dtype=np.float32), device=device
        )
        x = network_input(grids, t("offset"), t("rank"), t("n_slices")).to(device)
        present, known = mask(present_columns), mask(known_columns)
        image, theta = augmented(x[:, :3], augment, generator)
        target = warp(heatmaps(points[t("series_row")], size, sigma).to(device), theta).flatten(
            2
        )  # [B, P, S*S]
        mass = target.sum(-1)
        logits = net(torch.cat([image, x[:, 3:]], dim=1)).float().flatten(2)
        # where the point is: spatial cross-entropy where present, while its label is in view
        located = (present > 0) & (mass > 0.5)
        ce = -(target / mass.clamp(min=1e-6)[..., None] * torch.log_softmax(logits, dim=-1)).sum(-1)
        ce = (ce * located).sum() / located.sum().clamp(min=1)
        # whether it is there: each map's largest logit says present (this slice) or not
        presence = F.binary_cross_entropy_with_logits(logits.max(-1).values, present, weight=known)
        return ce + float(params["presence_weight"]) * presence

    return step


def fit_localiser(
    slices: np.ndarray,
    units: pd.DataFrame,
    point_columns: list[str],
    rank_columns: list[str],
    params: dict,
    validation_error,
    desc: str,
):
    """Fit a heatmap-and-presence localiser on the train-split units; select on validation.

    Args:
        units: one row per unit with ``study_id, series_id, offset, n_slices, split``, its
            points on the grid (``point_columns``: x, y per point, NaN where unlabelled) and
            their slice ranks (``rank_columns``, -1 where unlabelled).
        validation_error: ``(net, validation units) -> mean error``, the lower the better.

    The loss is the spatial cross-entropy of each present point's heatmap (while its label is
    still in view after augmentation) plus ``presence_weight`` times a binary cross-entropy
    saying, from each map's largest logit, whether the point is on this slice.
    """
    loop = LoopConfig.from_params(params)
    device = select_device(loop.device)
    torch.manual_seed(loop.seed)
    train_units = units[units["split"] == "train"].reset_index(drop=True)
    val_units = units[units["split"] == "validation"].reset_index(drop=True)
    if train_units.empty or val_units.empty:
        raise ValueError(f"{desc}: needs labelled series in the train and validation splits")
    n_points = len(rank_columns)
    samples = training_samples(
        train_units,
        rank_columns,
        int(params["negatives_per_series"]),
        loop.seed,
        int(params.get("negative_gap", 2)),
    )
    model = build_localiser(params["channels"], n_points)
    optimizer = torch.optim.AdamW(
        model.parameters(),
        lr=float(params["lr"]),
        weight_decay=float(params["weight_decay"]),
    )
    points = torch.tensor(train_units[point_columns].to_numpy(dtype=np.float32)).view(
        -1, n_points, 2
    )
    step = _heatmap_step(slices, samples, points, params, device)

    def evaluate(net):
        error = validation_error(net, val_units)
        return {"score": -error, "val_error_grid_px": error}

    trained, state = fit(
        model,
        step,
        len(samples),
        evaluate,
        optimizer,
        loop,
        scheduler=cosine_schedule(optimizer, loop.epochs),
        device=device,
        desc=desc,
    )
    return trained, pd.DataFrame(state.history)
