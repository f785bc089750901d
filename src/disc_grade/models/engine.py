"""The one training loop, for contrastive pretraining and fine-tuning alike.

- device: CUDA, then MPS, then CPU; bf16 autocast and channels_last on CUDA;
- deterministic on CPU: every epoch reseeds from ``(seed, epoch)``, so a resumed run draws the
  same batches and augmentations as an uninterrupted one;
- a checkpoint is written atomically after every epoch and loaded with ``weights_only=True``;
- early stopping on a validation score (higher is better), keeping the best weights;
- under ``torchrun`` (``WORLD_SIZE`` > 1) each process trains on its shard of every epoch's
  batches and DistributedDataParallel averages the gradients; one process works the same way.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from tqdm.auto import tqdm

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoopConfig:
    """Settings of one training run."""

    epochs: int = 20
    batch_size: int = 64
    patience: int = 0  # epochs without a better score before stopping; 0 = never stop early
    seed: int = 0
    device: str = "auto"
    checkpoint_every: int = 1

    def validate(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or self.patience < 0:
            raise ValueError(
                f"training needs epochs >= 1, batch_size >= 1, patience >= 0; got {asdict(self)}"
            )


@dataclass
class TrainState:
    """What a checkpoint holds."""

    epoch: int = -1
    best_score: float = float("-inf")
    best_epoch: int = -1
    bad_epochs: int = 0
    history: list[dict] = field(default_factory=list)


def select_device(preference: str = "auto") -> torch.device:
    """CUDA, then MPS, then CPU, unless ``preference`` names one."""
    if preference != "auto":
        return torch.device(preference)
    if torch.cuda.is_available():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def init_distributed() -> tuple[int, int]:
    """Join the process group when launched by ``torchrun``; return (rank, world size)."""
    world = int(os.environ.get("WORLD_SIZE", 1))
    if world <= 1:
        return 0, 1
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo")
    return dist.get_rank(), dist.get_world_size()


def config_hash(*parts: object) -> str:
    """Short digest of the settings a checkpoint was made with (a resume must match it)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def save_checkpoint(path: Path, payload: dict) -> None:
    """Write atomically: a crash leaves the previous checkpoint intact."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    torch.save(payload, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: Path) -> dict | None:
    if not path.is_file():
        return None
    return torch.load(path, map_location="cpu", weights_only=True)


def _unwrap(model: nn.Module) -> nn.Module:
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


def fit(
    model: nn.Module,
    step: Callable[[nn.Module, torch.Tensor, torch.Generator], torch.Tensor],
    n_train: int,
    evaluate: Callable[[nn.Module], dict[str, float]],
    optimizer: torch.optim.Optimizer,
    config: LoopConfig,
    *,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    checkpoint: Path | None = None,
    run_hash: str = "",
    device: torch.device | None = None,
    desc: str = "train",
    stop_after: int | None = None,
) -> tuple[nn.Module, TrainState]:
    """Train ``model`` and return it with the best weights loaded, plus its history.

    Args:
        step: computes the loss of one batch given the batch's row indices and a generator.
        n_train: number of training rows; each epoch shuffles ``range(n_train)``.
        evaluate: validation figures after an epoch; its ``score`` picks the best epoch.
        checkpoint: resume from here when it exists with the same ``run_hash``; written each epoch.
        stop_after: end after this many epochs of this call (simulates an interruption; tests).
    """
    config.validate()
    device = device or select_device(config.device)
    rank, world = init_distributed()
    model.to(device)
    if device.type == "cuda":
        model.to(memory_format=torch.channels_last)
    train_model: nn.Module = model
    if world > 1:
        train_model = nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None
        )
    state = TrainState()
    best_weights = copy.deepcopy(model.state_dict())
    if checkpoint is not None and (saved := load_checkpoint(checkpoint)) is not None:
        if saved.get("run_hash") == run_hash:
            model.load_state_dict(saved["model"])
            optimizer.load_state_dict(saved["optimizer"])
            if scheduler is not None and saved.get("scheduler") is not None:
                scheduler.load_state_dict(saved["scheduler"])
            best_weights = saved["best_model"]
            state = TrainState(**json.loads(saved["state"]))
            logger.info("%s: resumed from %s after epoch %d", desc, checkpoint, state.epoch + 1)
        else:
            logger.info(
                "%s: checkpoint %s was made with other settings; starting afresh", desc, checkpoint
            )

    autocast = (
        torch.autocast("cuda", dtype=torch.bfloat16)
        if device.type == "cuda"
        else torch.autocast("cpu", enabled=False)
    )
    first_epoch, done = state.epoch + 1, 0
    if config.patience and state.bad_epochs >= config.patience:
        first_epoch = config.epochs  # the checkpointed run had already stopped early
    for epoch in range(first_epoch, config.epochs):
        torch.manual_seed(config.seed * 100_003 + epoch)  # dropout and the like
        generator = torch.Generator(device=device if device.type == "cuda" else "cpu")
        generator.manual_seed(config.seed * 100_003 + epoch)
        order = torch.randperm(
            n_train, generator=torch.Generator().manual_seed(config.seed * 7919 + epoch)
        )
        shard = order[rank::world]
        batches = [
            shard[i : i + config.batch_size] for i in range(0, len(shard), config.batch_size)
        ]
        if len(batches) > 1 and len(batches[-1]) < 2:  # BatchNorm needs two samples
            batches = batches[:-1]
        train_model.train()
        total, seen, start = 0.0, 0, time.perf_counter()
        bar = tqdm(
            batches,
            desc=f"{desc} {epoch + 1}/{config.epochs}",
            unit="batch",
            disable=rank != 0,
            leave=False,
        )
        for idx in bar:
            optimizer.zero_grad(set_to_none=True)
            with autocast:
                loss = step(train_model, idx, generator)
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(idx)
            seen += len(idx)
            bar.set_postfix(
                loss=f"{total / max(seen, 1):.4f}",
                samples_s=f"{seen * world / (time.perf_counter() - start):.0f}",
            )
        if scheduler is not None:
            scheduler.step()
        if world > 1:  # BatchNorm statistics from rank 0, so every rank evaluates the same model
            for buffer in model.buffers():
                dist.broadcast(buffer, src=0)
        elapsed = time.perf_counter() - start
        model.eval()
        with torch.no_grad(), autocast:
            figures = evaluate(model)
        record = {
            "epoch": epoch + 1,
            "train_loss": total / max(seen, 1),
            "samples_per_s": seen * world / elapsed,
            **figures,
        }
        state.history.append(record)
        state.epoch = epoch
        score = float(figures.get("score", -record["train_loss"]))
        if score > state.best_score:
            state.best_score, state.best_epoch, state.bad_epochs = score, epoch + 1, 0
            best_weights = copy.deepcopy(model.state_dict())
        else:
            state.bad_epochs += 1
        logger.info(
            "%s epoch %d: %s",
            desc,
            epoch + 1,
            ", ".join(f"{k} {v:.4g}" for k, v in record.items() if k != "epoch"),
        )
        stop = config.patience and state.bad_epochs >= config.patience
        if (
            checkpoint is not None
            and rank == 0
            and ((epoch + 1) % config.checkpoint_every == 0 or stop or epoch + 1 == config.epochs)
        ):
            save_checkpoint(
                checkpoint,
                {
                    "run_hash": run_hash,
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict() if scheduler is not None else None,
                    "best_model": best_weights,
                    "state": json.dumps(asdict(state)),
                },
            )
        if world > 1:
            dist.barrier()
        done += 1
        if stop:
            logger.info(
                "%s: early stop after epoch %d (best epoch %d)", desc, epoch + 1, state.best_epoch
            )
            break
        if stop_after is not None and done >= stop_after:
            break
    model.load_state_dict(best_weights)
    return _unwrap(model), state
