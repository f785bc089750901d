"""The one training loop, for contrastive pretraining, fine-tuning and the localiser alike.

- device: CUDA, then MPS, then CPU; bf16 autocast and channels_last on CUDA;
- deterministic on CPU: every epoch reseeds from ``(seed, epoch)``, so a resumed run draws the
  same batches and augmentations as an uninterrupted one;
- a checkpoint is written atomically after every ``checkpoint_every`` epochs and resumed only
  when its run key (inputs, weights handed in, parameters, code) matches;
- early stopping on a validation score (higher is better), keeping the best weights;
- under ``torchrun`` (``WORLD_SIZE`` > 1) each process trains on its shard of every epoch's
  batches and DistributedDataParallel averages the gradients; shards are padded to equal length,
  so every rank takes the same number of steps. One process works the same way.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from tqdm.auto import tqdm

from disc_grade.models.training.batches import epoch_batches
from disc_grade.models.training.checkpoint import save_checkpoint
from disc_grade.models.training.device import init_distributed, select_device, unwrap
from disc_grade.models.training.loop_state import (
    LoopConfig,
    TrainState,
    checkpoint_payload,
    improved,
    resume,
)

logger = logging.getLogger(__name__)

Step = Callable[[nn.Module, torch.Tensor, torch.Generator], torch.Tensor]
Evaluate = Callable[[nn.Module], dict[str, float]]


def cosine_schedule(optimizer: torch.optim.Optimizer, epochs: int):
    """The learning-rate schedule every stage uses: cosine decay over ``epochs``."""
    return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(epochs, 1))


def _autocast(device: torch.device):
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return torch.autocast("cpu", enabled=False)


def _train_epoch(train_model, step, optimizer, batches, generator, autocast, bar_desc, quiet):
    """One pass over ``batches``; returns (mean loss, samples seen, seconds)."""
    train_model.train()
    total, seen, start = 0.0, 0, time.perf_counter()
    bar = tqdm(batches, desc=bar_desc, unit="batch", disable=True if quiet else None, leave=False)
    for idx in bar:
        optimizer.zero_grad(set_to_none=True)
        with autocast:
            loss = step(train_model, idx, generator)
        loss.backward()
        optimizer.step()
        total += float(loss.detach()) * len(idx)
        seen += len(idx)
        bar.set_postfix(loss=f"{total / max(seen, 1):.4f}")
    return total / max(seen, 1), seen, time.perf_counter() - start


def _validate(model, evaluate, autocast, world) -> dict[str, float]:
    if world > 1:  # BatchNorm statistics from rank 0, so every rank evaluates the same model
        for buffer in model.buffers():
            dist.broadcast(buffer, src=0)
    model.eval()
    with torch.no_grad(), autocast:
        return evaluate(model)


def _seeded(seed: int, epoch: int, device: torch.device) -> torch.Generator:
    """Seed the epoch's global draws (dropout and the like) and return its augmentation
    generator, both from ``(seed, epoch)``: a resumed run draws as an uninterrupted one."""
    torch.manual_seed(seed * 100_003 + epoch)
    generator = torch.Generator(device=device if device.type == "cuda" else "cpu")
    generator.manual_seed(seed * 100_003 + epoch)
    return generator


def _first_epoch(config: LoopConfig, state: TrainState) -> int:
    """The epoch a (resumed) run starts at; past the last when the checkpointed run had
    already stopped early."""
    if config.patience and state.bad_epochs >= config.patience:
        return config.epochs
    return state.epoch + 1


def _log_epoch(desc: str, record: dict, samples_per_s: float) -> None:
    figures = ", ".join(f"{k} {v:.4g}" for k, v in record.items() if k != "epoch")
    logger.info("%s epoch %d: %s, %.0f samples/s", desc, record["epoch"], figures, samples_per_s)


def _due(config: LoopConfig, epoch: int, stop: bool) -> bool:
    """Whether a checkpoint is written after ``epoch``: every ``checkpoint_every``, at an early
    stop and at the last epoch."""
    return (epoch + 1) % config.checkpoint_every == 0 or stop or epoch + 1 == config.epochs


def _placed(model: nn.Module, device: torch.device, world: int) -> nn.Module:
    """The model on its device (channels_last on CUDA), wrapped for DDP across processes."""
    model.to(device)
    if device.type == "cuda":
        model.to(memory_format=torch.channels_last)
    if world > 1:
        return nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None
        )
    return model


def fit(
    model: nn.Module,
    step: Step,
    n_train: int,
    evaluate: Evaluate,
    optimizer: torch.optim.Optimizer,
    config: LoopConfig,
    *,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    checkpoint: Path | None = None,
    run_key: dict[str, str] | None = None,
    device: torch.device | None = None,
    desc: str = "train",
    stop_after: int | None = None,
) -> tuple[nn.Module, TrainState]:
    """Train ``model`` and return it with the best weights loaded, plus its history.

    Args:
        step: the loss of one batch, given the batch's row indices and a generator.
        n_train: number of training rows; each epoch shuffles ``range(n_train)``.
        evaluate: validation figures after an epoch; its ``score`` picks the best epoch.
        checkpoint: resumed when it exists with the same ``run_key``; written atomically.
        run_key: what the run depends on (``checkpoint.run_key``); required with a checkpoint.
        stop_after: end after this many epochs of this call (simulates an interruption; tests).

    Raises:
        ValueError: bad loop settings, or a checkpoint without a run key.
    """
    config.validate()
    if checkpoint is not None and not run_key:
        raise ValueError(f"{desc}: a checkpoint needs a run key naming what the run depends on")
    device = device or select_device(config.device)
    rank, world = init_distributed()
    train_model = _placed(model, device, world)
    state, best_weights = resume(model, optimizer, scheduler, checkpoint, run_key, desc)
    autocast = _autocast(device)
    for done, epoch in enumerate(range(_first_epoch(config, state), config.epochs), start=1):
        generator = _seeded(config.seed, epoch, device)
        batches = epoch_batches(n_train, config.batch_size, config.seed, epoch, rank, world)
        loss, seen, elapsed = _train_epoch(
            train_model,
            step,
            optimizer,
            batches,
            generator,
            autocast,
            f"{desc} {epoch + 1}/{config.epochs}",
            rank != 0,
        )
        if scheduler is not None:
            scheduler.step()
        record = {
            "epoch": epoch + 1,
            "train_loss": loss,
            **_validate(model, evaluate, autocast, world),
        }
        if improved(state, record, epoch):
            best_weights = copy.deepcopy(model.state_dict())
        _log_epoch(desc, record, seen * world / max(elapsed, 1e-9))
        stop = bool(config.patience and state.bad_epochs >= config.patience)
        if checkpoint is not None and rank == 0 and _due(config, epoch, stop):
            payload = checkpoint_payload(run_key, model, optimizer, scheduler, best_weights, state)
            save_checkpoint(checkpoint, payload)
        if world > 1:
            dist.barrier()
        if stop:
            logger.info(
                "%s: early stop after epoch %d (best epoch %d)", desc, epoch + 1, state.best_epoch
            )
            break
        if stop_after is not None and done >= stop_after:
            break
    model.load_state_dict(best_weights)
    return unwrap(model), state
