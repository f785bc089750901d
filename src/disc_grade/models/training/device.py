"""Where training runs: the device (CUDA, then MPS, then CPU) and the torchrun process group."""

from __future__ import annotations

import os

import torch
import torch.distributed as dist
from torch import nn


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


def unwrap(model: nn.Module) -> nn.Module:
    """The model inside a DistributedDataParallel wrapper (or the model itself)."""
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model
