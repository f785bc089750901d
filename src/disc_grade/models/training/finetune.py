"""Supervised fine-tuning of the grader: weighted focal loss plus the localisation head."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from sklearn.metrics import balanced_accuracy_score

from disc_grade.dicom.roi import roi_centre
from disc_grade.models.components.augment import (
    AugmentConfig,
    augmented,
    pixels_to_normalised,
    warp_points,
)
from disc_grade.models.components.losses import WeightedFocalLoss
from disc_grade.models.components.networks import DiscGrader, encoder_from_params
from disc_grade.models.grading.predict import predict, prediction_table
from disc_grade.models.training.batches import roi_batch
from disc_grade.models.training.checkpoint import run_key
from disc_grade.models.training.device import select_device, unwrap
from disc_grade.models.training.engine import LoopConfig, cosine_schedule, fit

logger = logging.getLogger(__name__)

# the roi_index columns a grader's training depends on (its checkpoint key hashes them)
TRAINING_COLUMNS = ["study_id", "level", "label", "split", "point_x", "point_y"]


def _optimizer(model: DiscGrader, params: dict, variant: dict, frozen: bool):
    lr = float(params["lr"])
    heads = [p for n, p in model.named_parameters() if not n.startswith("encoder.")]
    groups = [{"params": heads, "lr": lr}]
    if not frozen:
        groups.append(
            {"params": model.encoder.parameters(), "lr": lr * float(variant["encoder_lr_scale"])}
        )
    return torch.optim.AdamW(groups, weight_decay=float(params["weight_decay"]))


def _schedule(optimizer: torch.optim.Optimizer, epochs: int, head_epochs: int, frozen: bool):
    """Cosine decay; with ``head_epochs`` (LP-FT) the encoder's rate is 0 for that many epochs,
    then follows its own cosine over the epochs left."""
    if not head_epochs or frozen:
        return cosine_schedule(optimizer, epochs)
    if not 0 < head_epochs < epochs:
        raise ValueError(
            f"finetuning variant head_epochs must be in [0, epochs={epochs}), got {head_epochs}"
        )

    def heads(epoch: int) -> float:
        return 0.5 * (1 + math.cos(math.pi * epoch / epochs))

    def encoder(epoch: int) -> float:
        if epoch < head_epochs:
            return 0.0
        return 0.5 * (1 + math.cos(math.pi * (epoch - head_epochs) / (epochs - head_epochs)))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, [heads, encoder])


def _grader(
    rois: np.ndarray, encoder_weights: dict | None, params: dict, variant: dict
) -> DiscGrader:
    name = variant["name"]
    encoder = encoder_from_params(params["encoder"], in_channels=rois.shape[1])
    if variant["init"] == "pretrained":
        if encoder_weights is None:
            raise ValueError(f"{name}: init 'pretrained' needs the pretraining encoder")
        encoder.load_state_dict(encoder_weights)
    elif variant["init"] != "random":
        raise ValueError(f"{name}: init must be 'pretrained' or 'random', got '{variant['init']}'")
    return DiscGrader(encoder, dropout=float(params["dropout"]))


def _grading_step(rois, labels, points, train_rows, params, frozen, optimizer, device):
    """One training step: the class-weighted focal loss plus ``localisation_weight`` times the
    Smooth L1 of the localisation head, on augmented ROIs (the point warped with them)."""
    focal = WeightedFocalLoss(params["class_weights"], float(params["focal_gamma"]))
    loc_weight = float(params["localisation_weight"])
    augment = AugmentConfig.from_params(params["augment"])
    centre = pixels_to_normalised(
        torch.as_tensor(points.to_numpy(dtype=np.float32)), rois.shape[-1]
    )

    def step(net, idx, generator):
        rows = torch.as_tensor(train_rows)[idx]
        x = roi_batch(rois, rows, device)
        x, theta = augmented(x, augment, generator)
        target = warp_points(centre[rows].to(device), theta)
        if frozen or (len(optimizer.param_groups) > 1 and optimizer.param_groups[1]["lr"] == 0):
            unwrap(net).encoder.eval()  # frozen BatchNorm statistics too
        logits, point = net(x)
        return focal(logits, labels[rows].to(device)) + loc_weight * F.smooth_l1_loss(
            point.float(), target, beta=0.1
        )

    return step


def _validation(rois, labels, points, val_rows, params, device):
    """The epoch's validation score: balanced accuracy, less ``select_localisation_weight``
    times the head's RMSE over the RMSE of answering the ROI's centre."""
    truth_px = points.to_numpy(dtype=float)[val_rows]
    centre_rmse = float(np.sqrt(np.mean(np.sum((truth_px - roi_centre(rois.shape[-1])) ** 2, 1))))
    select_loc = float(params["select_localisation_weight"])

    def evaluate(net):
        probs, found = predict(net, rois, val_rows, device)
        accuracy = float(balanced_accuracy_score(labels[val_rows].numpy(), probs.argmax(1)))
        loc_rmse = float(np.sqrt(np.mean(np.sum((found - truth_px) ** 2, 1))))
        # the epoch kept: best balanced accuracy, less a penalty for a head no better than the centre
        score = accuracy - select_loc * loc_rmse / max(centre_rmse, 1e-6)
        return {"score": score, "val_balanced_accuracy": accuracy, "val_loc_rmse_px": loc_rmse}

    return evaluate


def _log_selection(name: str, state) -> None:
    accuracy = (
        state.history[state.best_epoch - 1]["val_balanced_accuracy"]
        if state.history
        else float("nan")
    )
    logger.info(
        "finetune[%s]: best validation score %.3f (balanced accuracy %.3f) at epoch %d",
        name,
        state.best_score,
        accuracy,
        state.best_epoch,
    )


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
        encoder_weights: the pretrained encoder, or None; read (and keyed) only for
            ``init: pretrained``, so a ``random`` variant trains the same with or without it.
        params: shared fine-tuning settings: ``encoder``, ``lr``, ``weight_decay``, ``dropout``,
            ``class_weights``, ``focal_gamma``, ``localisation_weight``, ``augment`` and the
            loop's keys.
        variant: ``name``, ``init`` (``pretrained`` | ``random``), ``freeze_encoder``,
            ``encoder_lr_scale``, ``head_epochs`` (LP-FT: the heads train alone on the frozen
            encoder, BatchNorm statistics included, for that many epochs first; 0: never).
        checkpoint: resumed only when made from the same ROIs, split table, encoder weights,
            parameters and code.

    Raises:
        ValueError: a variant asks for pretrained weights that were not given, or a split is empty.
    """
    loop = LoopConfig.from_params(params)
    device = select_device(loop.device)
    torch.manual_seed(loop.seed)
    name = variant["name"]
    splits = index["split"].to_numpy()
    train_rows = np.flatnonzero(splits == "train")
    val_rows = np.flatnonzero(splits == "validation")
    if len(train_rows) < 2 or len(val_rows) < 1:
        raise ValueError(
            f"{name}: needs ROIs in the train and validation splits, got {len(train_rows)} / {len(val_rows)}"
        )
    model = _grader(rois, encoder_weights, params, variant)
    frozen = bool(variant["freeze_encoder"])
    if frozen:
        model.encoder.requires_grad_(False)
    optimizer = _optimizer(model, params, variant, frozen)
    scheduler = _schedule(optimizer, loop.epochs, int(variant["head_epochs"]), frozen)
    labels = torch.as_tensor(index["label"].to_numpy(dtype=np.int64))
    points = index[["point_x", "point_y"]]
    step = _grading_step(rois, labels, points, train_rows, params, frozen, optimizer, device)
    evaluate = _validation(rois, labels, points, val_rows, params, device)
    key = run_key(
        stage="finetune",
        rois=rois,
        split_table=index[TRAINING_COLUMNS].reset_index(drop=True),
        encoder=encoder_weights if variant["init"] == "pretrained" else None,
        params=params,
        variant=variant,
    )
    trained, state = fit(
        model,
        step,
        len(train_rows),
        evaluate,
        optimizer,
        loop,
        scheduler=scheduler,
        checkpoint=checkpoint,
        run_key=key,
        device=device,
        desc=f"finetune[{name}]",
    )
    _log_selection(name, state)
    eval_rows = np.flatnonzero(splits != "train")  # validation, test and any held-out site
    probs, points = predict(trained, rois, eval_rows, device)
    return (
        trained,
        pd.DataFrame(state.history),
        prediction_table(index.iloc[eval_rows], probs, points, name, rois.shape[-1]),
    )
