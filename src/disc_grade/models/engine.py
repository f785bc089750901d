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
import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from tqdm.auto import tqdm

from disc_grade.models.batches import epoch_batches
from disc_grade.models.checkpoint import load_matching, save_checkpoint
from disc_grade.models.device import init_distributed, select_device, unwrap

logger = logging.getLogger(__name__)

Step = Callable[[nn.Module, torch.Tensor, torch.Generator], torch.Tensor]
Evaluate = Callable[[nn.Module], dict[str, float]]


@dataclass(frozen=True)
class LoopConfig:
    """Settings of one training run (the loop's keys of a ``parameters_<stage>.yml`` block)."""

    epochs: int
    batch_size: int
    seed: int
    patience: int = 0  # epochs without a better score before stopping; 0 = never stop early
    device: str = "auto"
    checkpoint_every: int = 1

    @classmethod
    def from_params(cls, params: dict) -> LoopConfig:
        """The loop's settings from a stage's parameters (other keys are the stage's own).

        Raises:
            ValueError: ``epochs``, ``batch_size`` or ``seed`` is missing.
        """
        missing = [k for k in ("epochs", "batch_size", "seed") if k not in params]
        if missing:
            raise ValueError(f"training parameters lack {missing}")
        return cls(**{k: params[k] for k in cls.__dataclass_fields__ if k in params})

    def validate(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or self.patience < 0 or self.checkpoint_every < 1:
            raise ValueError(
                "training needs epochs >= 1, batch_size >= 1, patience >= 0, "
                f"checkpoint_every >= 1; got {asdict(self)}"
            )


@dataclass
class TrainState:
    """What a checkpoint holds besides weights."""

    epoch: int = -1
    best_score: float = float("-inf")
    best_epoch: int = -1
    bad_epochs: int = 0
    history: list[dict] = field(default_factory=list)


def cosine_schedule(optimizer: torch.optim.Optimizer, epochs: int):
    """The learning-rate schedule every stage uses: cosine decay over ``epochs``."""
    return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(epochs, 1))


def _autocast(device: torch.device):
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return torch.autocast("cpu", enabled=False)


def _resume(model, optimizer, scheduler, checkpoint, key, desc) -> tuple[TrainState, dict]:
    """State and best weights from a matching checkpoint, or a fresh start."""
    saved = load_matching(checkpoint, key, desc)
    if saved is None:
        return TrainState(), copy.deepcopy(model.state_dict())
    model.load_state_dict(saved["model"])
    optimizer.load_state_dict(saved["optimizer"])
    if scheduler is not None and saved.get("scheduler") is not None:
        scheduler.load_state_dict(saved["scheduler"])
    state = TrainState(**json.loads(saved["state"]))
    logger.info("%s: resumed from %s after epoch %d", desc, checkpoint, state.epoch + 1)
    return state, saved["best_model"]


def _train_epoch(train_model, step, optimizer, batches, generator, autocast, bar_desc, quiet):
    """One pass over ``batches``; returns (mean loss, samples seen, seconds)."""
    train_model.train()
    total, seen, start = 0.0, 0, time.perf_counter()
    bar = tqdm(batches, desc=bar_desc, unit="batch", disable=quiet, leave=False)
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


def _checkpoint_payload(key, model, optimizer, scheduler, best_weights, state) -> dict:
    return {
        "run_key": key,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "best_model": best_weights,
        "state": json.dumps(asdict(state)),
    }


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


def _improved(state: TrainState, record: dict, epoch: int) -> bool:
    """Record an epoch in ``state``; whether its score beats every earlier epoch's."""
    state.history.append(record)
    state.epoch = epoch
    score = float(record.get("score", -record["train_loss"]))
    if score > state.best_score:
        state.best_score, state.best_epoch, state.bad_epochs = score, epoch + 1, 0
        return True
    state.bad_epochs += 1
    return False


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
    state, best_weights = _resume(model, optimizer, scheduler, checkpoint, run_key, desc)
    autocast = _autocast(device)
    first_epoch = state.epoch + 1
    if config.patience and state.bad_epochs >= config.patience:
        first_epoch = config.epochs  # the checkpointed run had already stopped early
    for done, epoch in enumerate(range(first_epoch, config.epochs), start=1):
        torch.manual_seed(config.seed * 100_003 + epoch)  # dropout and the like
        generator = torch.Generator(device=device if device.type == "cuda" else "cpu")
        generator.manual_seed(config.seed * 100_003 + epoch)
        batches = epoch_batches(n_train, config.batch_size, config.seed, epoch, rank, world)
        loss, seen, elapsed = _train_epoch(
            train_model, step, optimizer, batches, generator, autocast,
            f"{desc} {epoch + 1}/{config.epochs}", rank != 0,
        )  # fmt: skip
        if scheduler is not None:
            scheduler.step()
        record = {
            "epoch": epoch + 1,
            "train_loss": loss,
            **_validate(model, evaluate, autocast, world),
        }
        if _improved(state, record, epoch):
            best_weights = copy.deepcopy(model.state_dict())
        logger.info("%s epoch %d: %s, %.0f samples/s", desc, epoch + 1,
                    ", ".join(f"{k} {v:.4g}" for k, v in record.items() if k != "epoch"),
                    seen * world / max(elapsed, 1e-9))  # fmt: skip
        stop = bool(config.patience and state.bad_epochs >= config.patience)
        due = (epoch + 1) % config.checkpoint_every == 0 or stop or epoch + 1 == config.epochs
        if checkpoint is not None and rank == 0 and due:
            payload = _checkpoint_payload(run_key, model, optimizer, scheduler, best_weights, state)
            save_checkpoint(checkpoint, payload)
        if world > 1:
            dist.barrier()
        if stop:
            logger.info("%s: early stop after epoch %d (best epoch %d)", desc, epoch + 1,
                        state.best_epoch)  # fmt: skip
            break
        if stop_after is not None and done >= stop_after:
            break
    model.load_state_dict(best_weights)
    return unwrap(model), state
