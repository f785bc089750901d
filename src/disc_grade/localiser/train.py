"""Train the localiser with the project's one training loop, and measure it on held-out series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from disc_grade.localiser.data import POINT_COLUMNS, from_grid_coords
from disc_grade.localiser.model import N_LEVELS, build_localiser, heatmaps, localise, network_input
from disc_grade.models.augment import AugmentConfig, augmented, warp
from disc_grade.models.device import select_device
from disc_grade.models.engine import LoopConfig, cosine_schedule, fit
from disc_grade.rsna import LEVELS


def _series_table(index: pd.DataFrame, targets: pd.DataFrame) -> pd.DataFrame:
    first = index[index["rank"] == 0].drop(columns=["rank"])
    return first.merge(targets, on=["study_id", "series_id"], how="inner", suffixes=("", "_target"))


def training_samples(series: pd.DataFrame, negatives: int, seed: int) -> pd.DataFrame:
    """The labelled slice twice per series, plus ``negatives`` slices two or more away (no canal target)."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in series.itertuples():
        rows += [(s.offset, s.labelled_rank, s.n_slices, s.Index, True)] * 2
        far = [r for r in range(s.n_slices) if abs(r - s.labelled_rank) >= 2]
        for r in rng.permutation(far)[:negatives]:
            rows.append((s.offset, int(r), s.n_slices, s.Index, False))
    return pd.DataFrame(rows, columns=["offset", "rank", "n_slices", "series_row", "positive"])


def predict_series(model, slices: np.ndarray, series: pd.DataFrame) -> pd.DataFrame:
    """Localise every series: chosen slice, points in image pixels, peaks; one row per (series, level)."""
    rows = []
    for s in series.itertuples():
        result = localise(model, slices[s.offset : s.offset + s.n_slices])
        gx, gy = result["points"][:, 0], result["points"][:, 1]
        x, y = from_grid_coords(gx, gy, s.columns, s.rows, slices.shape[-1])
        for k, level in enumerate(LEVELS):
            rows.append(
                {
                    "study_id": s.study_id,
                    "series_id": s.series_id,
                    "level": level,
                    "slice_rank": result["rank"],
                    "x": float(x[k]),
                    "y": float(y[k]),
                    "peak": float(result["peaks"][k]),
                }
            )
    return pd.DataFrame(rows)


def _grid_error(model, slices, series) -> float:
    errors = []
    for s in series.itertuples():
        result = localise(model, slices[s.offset : s.offset + s.n_slices])
        truth = np.array([[getattr(s, f"gx_{lvl}"), getattr(s, f"gy_{lvl}")] for lvl in LEVELS])
        errors.append(np.nanmean(np.hypot(*(result["points"] - truth).T)))
    return float(np.mean(errors)) if errors else float("nan")


def train_localiser(slices: np.ndarray, index: pd.DataFrame, targets: pd.DataFrame, params: dict):
    """Fit the localiser on the train-split series; select on validation point error."""
    loop = LoopConfig.from_params(params)
    device = select_device(loop.device)
    torch.manual_seed(loop.seed)
    series = _series_table(index, targets)
    train_series = series[series["split"] == "train"].reset_index(drop=True)
    val_series = series[series["split"] == "validation"].reset_index(drop=True)
    if train_series.empty or val_series.empty:
        raise ValueError("localiser: needs labelled series in the train and validation splits")
    samples = training_samples(train_series, int(params["negatives_per_series"]), loop.seed)
    model = build_localiser(params["channels"])
    optimizer = torch.optim.AdamW(
        model.parameters(),
        lr=float(params["lr"]),
        weight_decay=float(params["weight_decay"]),
    )
    augment = AugmentConfig.from_params(params["augment"])
    sigma = float(params["sigma"])
    size = slices.shape[-1]
    grids = torch.from_numpy(np.asarray(slices))
    points = torch.tensor(train_series[POINT_COLUMNS].to_numpy(dtype=np.float32)).view(
        -1, N_LEVELS, 2
    )

    def step(net, idx, generator):
        batch = samples.iloc[idx.numpy()]
        t = lambda c: torch.as_tensor(batch[c].to_numpy(dtype=np.int64))  # noqa: E731
        x = network_input(grids, t("offset"), t("rank"), t("n_slices")).to(device)
        positive = torch.as_tensor(batch["positive"].to_numpy(), dtype=torch.float32, device=device)
        image, theta = augmented(x[:, :3], augment, generator)
        target = warp(heatmaps(points[t("series_row")], size, sigma).to(device), theta).flatten(
            2
        )  # [B, L, S*S]
        mass = target.sum(-1)
        logits = net(torch.cat([image, x[:, 3:]], dim=1)).float().flatten(2)
        # where the canal is: spatial cross-entropy on labelled slices, for levels still in view
        located = (positive[:, None] > 0) & (mass > 0.5)
        ce = -(target / mass.clamp(min=1e-6)[..., None] * torch.log_softmax(logits, dim=-1)).sum(-1)
        ce = (ce * located).sum() / located.sum().clamp(min=1)
        # whether it is there: the largest logit of each level says canal (labelled slice) or not
        presence = F.binary_cross_entropy_with_logits(
            logits.max(-1).values, positive[:, None].expand(-1, logits.shape[1])
        )
        return ce + float(params["presence_weight"]) * presence

    def evaluate(net):
        error = _grid_error(net, slices, val_series)
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
        desc="localiser",
    )
    return trained, pd.DataFrame(state.history)


def localiser_metrics(predicted: pd.DataFrame, discs: pd.DataFrame) -> tuple[dict, pd.DataFrame]:
    """Point error (mm) per level, level-assignment accuracy and slice error on labelled discs.

    A level is assigned correctly when its predicted point is nearer its own labelled point than
    any other labelled point of the study.
    """
    merged = discs.merge(predicted, on=["study_id", "series_id", "level"], suffixes=("", "_pred"))
    dx = (merged["x_pred"] - merged["x"]) * merged["pixel_spacing_col"]
    dy = (merged["y_pred"] - merged["y"]) * merged["pixel_spacing_row"]
    merged["error_mm"] = np.hypot(dx, dy)
    merged["slice_error"] = (merged["slice_rank_pred"] - merged["slice_rank"]).abs()
    correct = []
    for _, study in merged.groupby(["study_id", "series_id"]):
        truth = (
            study[["x", "y"]].to_numpy()
            * study[["pixel_spacing_col", "pixel_spacing_row"]].to_numpy()
        )
        pred = (
            study[["x_pred", "y_pred"]].to_numpy()
            * study[["pixel_spacing_col", "pixel_spacing_row"]].to_numpy()
        )
        distance = np.hypot(*(pred[:, None, :] - truth[None, :, :]).transpose(2, 0, 1))
        correct += list(distance.argmin(axis=1) == np.arange(len(study)))
    merged["level_correct"] = correct
    metrics = {
        "n_discs": int(len(merged)),
        "n_series": int(merged[["study_id", "series_id"]].drop_duplicates().shape[0]),
        "median_error_mm": float(merged["error_mm"].median()) if len(merged) else None,
        "mean_error_mm": float(merged["error_mm"].mean()) if len(merged) else None,
        "level_assignment_accuracy": float(np.mean(correct)) if correct else None,
        "slice_exact": float((merged["slice_error"] == 0).mean()) if len(merged) else None,
        "slice_within_one": float((merged["slice_error"] <= 1).mean()) if len(merged) else None,
        "mean_slice_error": float(merged["slice_error"].mean()) if len(merged) else None,
    }
    for level, group in merged.groupby("level"):
        metrics[f"median_error_mm_{level}"] = float(group["error_mm"].median())
    return metrics, merged
