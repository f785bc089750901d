"""Contrastive pretraining and supervised fine-tuning, on ROI tensors (no files, no Kedro)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from sklearn.metrics import balanced_accuracy_score

from disc_grade.models.augment import (
    AugmentConfig,
    appearance,
    normalised_to_pixels,
    pixels_to_normalised,
    random_affine,
    warp,
    warp_points,
)
from disc_grade.models.engine import LoopConfig, config_hash, fit, select_device
from disc_grade.models.losses import NTXent, WeightedFocalLoss
from disc_grade.models.networks import (
    ContrastiveModel,
    DiscGrader,
    ProjectionHead,
    build_encoder,
    feature_size,
)

logger = logging.getLogger(__name__)
EVAL_BATCH = 256


@dataclass(frozen=True)
class EncoderConfig:
    depth: int = 18
    stem_stride: int = 2

    @classmethod
    def from_params(cls, params: dict | None) -> EncoderConfig:
        return cls(**{k: int(v) for k, v in (params or {}).items()})


def loop_config(params: dict) -> LoopConfig:
    keys = LoopConfig.__dataclass_fields__
    return LoopConfig(**{k: params[k] for k in keys if k in params})


def _batch(rois: np.ndarray, idx: torch.Tensor, device: torch.device) -> torch.Tensor:
    x = torch.from_numpy(np.asarray(rois[idx.numpy()], dtype=np.float32)).to(device)
    return x.contiguous(memory_format=torch.channels_last) if device.type == "cuda" else x


def _cosine(optimizer: torch.optim.Optimizer, epochs: int):
    return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(epochs, 1))


def pretrain_encoder(
    rois: np.ndarray, params: dict, checkpoint: Path | None = None
) -> tuple[dict[str, torch.Tensor], pd.DataFrame]:
    """SimCLR-style pretraining on unlabelled ROIs [N, C, H, W]; returns encoder weights and curve.

    Two views per ROI from random geometry and scanner-appearance augmentations, a projection
    head, and NT-Xent with ``params['temperature']``.
    """
    loop = loop_config(params)
    device = select_device(loop.device)
    torch.manual_seed(loop.seed)
    encoder = build_encoder(
        **vars(EncoderConfig.from_params(params.get("encoder"))), in_channels=rois.shape[1]
    )
    projection = ProjectionHead(
        feature_size(encoder),
        int(params.get("projection_hidden", 256)),
        int(params.get("projection_dim", 128)),
    )
    model = ContrastiveModel(encoder, projection)
    criterion = NTXent(float(params.get("temperature", 0.1)))
    augment = AugmentConfig.from_params(params.get("augment"))
    optimizer = torch.optim.AdamW(
        model.parameters(),
        lr=float(params.get("lr", 1e-3)),
        weight_decay=float(params.get("weight_decay", 1e-4)),
    )

    def step(net, idx, generator):
        x = _batch(rois, idx, device)
        views = []
        for _ in range(2):
            theta = random_affine(len(idx), augment, generator, device)
            views.append(appearance(warp(x, theta), augment, generator))
        z = net(torch.cat(views))  # one pass: BatchNorm sees both views
        return criterion(z[: len(idx)], z[len(idx) :])

    trained, state = fit(
        model,
        step,
        len(rois),
        lambda _: {},
        optimizer,
        loop,
        scheduler=_cosine(optimizer, loop.epochs),
        checkpoint=checkpoint,
        run_hash=config_hash("pretrain", params, rois.shape),
        device=device,
        desc="pretraining",
    )
    curve = pd.DataFrame(state.history)
    return {k: v.detach().cpu() for k, v in trained.encoder.state_dict().items()}, curve


def predict(
    model: DiscGrader, rois: np.ndarray, rows: np.ndarray, device: torch.device
) -> tuple[np.ndarray, np.ndarray]:
    """Softmax probabilities [n, 3] and points (ROI px, x/y) [n, 2] for ``rois[rows]``."""
    model.eval()
    size = rois.shape[-1]
    probs, points = [], []
    with torch.no_grad():
        for start in range(0, len(rows), EVAL_BATCH):
            x = _batch(rois, torch.as_tensor(rows[start : start + EVAL_BATCH]), device)
            logits, point = model(x)
            probs.append(torch.softmax(logits.float(), dim=1).cpu().numpy())
            points.append(normalised_to_pixels(point.float(), size).cpu().numpy())
    if not probs:
        return np.zeros((0, 3)), np.zeros((0, 2))
    return np.concatenate(probs), np.concatenate(points)


def finetune_grader(
    rois: np.ndarray,
    index: pd.DataFrame,
    encoder_weights: dict[str, torch.Tensor] | None,
    params: dict,
    variant: dict,
    checkpoint: Path | None = None,
) -> tuple[DiscGrader, pd.DataFrame, pd.DataFrame]:
    """Fine-tune the grader for one variant; returns the model, its curve and its predictions.

    Args:
        index: ``roi_index`` with ``split``, ``label``, ``point_x``, ``point_y``.
        encoder_weights: pretrained encoder (for ``init: pretrained``) or None.
        params: shared fine-tuning settings (loop, focal loss, localisation weight, augmentation).
        variant: ``name``, ``init`` (``pretrained`` | ``random``), ``freeze_encoder``,
            ``encoder_lr_scale``.

    Raises:
        ValueError: a variant asks for pretrained weights that were not given, or a split is empty.
    """
    loop = loop_config(params)
    device = select_device(loop.device)
    torch.manual_seed(loop.seed)
    name = variant.get("name", "variant")
    splits = index["split"].to_numpy()
    train_rows = np.flatnonzero(splits == "train")
    val_rows = np.flatnonzero(splits == "validation")
    if len(train_rows) < 2 or len(val_rows) < 1:
        raise ValueError(
            f"{name}: needs ROIs in the train and validation splits, got {len(train_rows)} / {len(val_rows)}"
        )
    encoder = build_encoder(
        **vars(EncoderConfig.from_params(params.get("encoder"))), in_channels=rois.shape[1]
    )
    if variant.get("init", "random") == "pretrained":
        if encoder_weights is None:
            raise ValueError(f"{name}: init 'pretrained' needs the pretraining encoder")
        encoder.load_state_dict(encoder_weights)
    model = DiscGrader(encoder, dropout=float(params.get("dropout", 0.2)))
    frozen = bool(variant.get("freeze_encoder", False))
    if frozen:
        model.encoder.requires_grad_(False)
    lr = float(params.get("lr", 1e-3))
    groups = [
        {
            "params": [p for n, p in model.named_parameters() if not n.startswith("encoder.")],
            "lr": lr,
        }
    ]
    if not frozen:
        groups.append(
            {
                "params": model.encoder.parameters(),
                "lr": lr * float(variant.get("encoder_lr_scale", 1.0)),
            }
        )
    optimizer = torch.optim.AdamW(groups, weight_decay=float(params.get("weight_decay", 1e-4)))
    focal = WeightedFocalLoss(
        params.get("class_weights", [1.0, 2.0, 4.0]), float(params.get("focal_gamma", 2.0))
    )
    loc_weight = float(params.get("localisation_weight", 1.0))
    augment = AugmentConfig.from_params(params.get("augment"))
    labels = torch.as_tensor(index["label"].to_numpy(dtype=np.int64))
    size = rois.shape[-1]
    centre = pixels_to_normalised(
        torch.as_tensor(index[["point_x", "point_y"]].to_numpy(dtype=np.float32)), size
    )

    def step(net, idx, generator):
        rows = torch.as_tensor(train_rows)[idx]
        x = _batch(rois, rows, device)
        theta = random_affine(len(rows), augment, generator, device)
        x = appearance(warp(x, theta), augment, generator)
        target = warp_points(centre[rows].to(device), theta)
        if frozen:
            _unwrapped(net).encoder.eval()  # frozen BatchNorm statistics too
        logits, point = net(x)
        return focal(logits, labels[rows].to(device)) + loc_weight * F.smooth_l1_loss(
            point.float(), target, beta=0.1
        )

    def evaluate(net):
        probs, _ = predict(net, rois, val_rows, device)
        score = balanced_accuracy_score(labels[val_rows].numpy(), probs.argmax(1))
        return {"score": float(score), "val_balanced_accuracy": float(score)}

    trained, state = fit(
        model,
        step,
        len(train_rows),
        evaluate,
        optimizer,
        loop,
        scheduler=_cosine(optimizer, loop.epochs),
        checkpoint=checkpoint,
        run_hash=config_hash("finetune", params, variant, rois.shape, encoder_weights is not None),
        device=device,
        desc=f"finetune[{name}]",
    )
    logger.info(
        "finetune[%s]: best validation balanced accuracy %.3f at epoch %d",
        name,
        state.best_score,
        state.best_epoch,
    )
    eval_rows = np.flatnonzero(np.isin(splits, ["validation", "test"]))
    probs, points = predict(trained, rois, eval_rows, device)
    return (
        trained,
        pd.DataFrame(state.history),
        prediction_table(index.iloc[eval_rows], probs, points, name),
    )


def _unwrapped(net):
    return net.module if isinstance(net, torch.nn.parallel.DistributedDataParallel) else net


def prediction_table(
    rows: pd.DataFrame, probs: np.ndarray, points: np.ndarray, variant: str
) -> pd.DataFrame:
    """The ``predictions`` contract for one variant."""
    return pd.DataFrame(
        {
            "study_id": rows["study_id"].to_numpy(dtype=np.int64),
            "level": rows["level"].astype(str).to_numpy(),
            "variant": variant,
            "split": rows["split"].astype(str).to_numpy(),
            "label": rows["label"].to_numpy(dtype=np.int64),
            "p_normal_mild": probs[:, 0],
            "p_moderate": probs[:, 1],
            "p_severe": probs[:, 2],
            "predicted": probs.argmax(1).astype(np.int64),
            "point_x_pred": points[:, 0],
            "point_y_pred": points[:, 1],
            "point_x_true": rows["point_x"].to_numpy(dtype=float),
            "point_y_true": rows["point_y"].to_numpy(dtype=float),
            "mm_per_px": rows["roi_mm_per_px"].to_numpy(dtype=float),
        }
    )
