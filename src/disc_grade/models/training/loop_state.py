"""What the training loop keeps between epochs and across runs: its settings, its state, the
checkpoint that resumes it (only under the same run key) and the rule that calls an epoch best."""

from __future__ import annotations

import copy
import json
import logging
from dataclasses import asdict, dataclass, field

from disc_grade.models.training.checkpoint import load_matching

logger = logging.getLogger(__name__)


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


def resume(model, optimizer, scheduler, checkpoint, key, desc) -> tuple[TrainState, dict]:
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


def checkpoint_payload(key, model, optimizer, scheduler, best_weights, state) -> dict:
    return {
        "run_key": key,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "best_model": best_weights,
        "state": json.dumps(asdict(state)),
    }


def improved(state: TrainState, record: dict, epoch: int) -> bool:
    """Record an epoch in ``state``; whether its score beats every earlier epoch's."""
    state.history.append(record)
    state.epoch = epoch
    score = float(record.get("score", -record["train_loss"]))
    if score > state.best_score:
        state.best_score, state.best_epoch, state.bad_epochs = score, epoch + 1, 0
        return True
    state.bad_epochs += 1
    return False
