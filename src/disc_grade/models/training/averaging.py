"""An exponential moving average of a model's weights over its training steps.

On a few hundred training studies a grader's validation figures swing from epoch to epoch (the
last optimiser steps move its decision boundaries between Moderate and Severe); the average of
its recent weights is steadier, and the loop then evaluates, keeps and returns the average
instead of the last step's weights. The horizon is given in epochs, so that it means the same
on a small and a large cohort; the first steps are averaged plainly (no pull towards the
initial weights).
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class WeightAverage:
    """The running average of a model's parameters and floating-point buffers (BatchNorm's
    statistics); integer buffers follow the model."""

    def __init__(self, model: nn.Module, horizon_steps: float):
        if horizon_steps < 1:
            raise ValueError(f"the averaging horizon must be >= 1 step, got {horizon_steps}")
        self.decay = 1.0 - 1.0 / float(horizon_steps)
        self.updates = 0
        self.module = copy.deepcopy(model).eval()
        self.module.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Fold the model's current weights in (after an optimiser step)."""
        self.updates += 1
        decay = min(self.decay, (self.updates - 1) / self.updates)  # a plain mean at first
        live = model.state_dict()
        for name, averaged in self.module.state_dict().items():
            current = live[name].detach()
            if averaged.dtype.is_floating_point:
                averaged.mul_(decay).add_(current.to(averaged.dtype), alpha=1.0 - decay)
            else:
                averaged.copy_(current)

    def state_dict(self) -> dict:
        return {"module": self.module.state_dict(), "updates": self.updates}

    def load_state_dict(self, saved: dict) -> None:
        self.module.load_state_dict(saved["module"])
        self.updates = int(saved["updates"])


def weight_average(model: nn.Module, epochs: float, steps_per_epoch: int) -> WeightAverage | None:
    """The average over about ``epochs`` epochs of ``steps_per_epoch`` steps; None when 0."""
    if epochs < 0:
        raise ValueError(f"average_epochs must be >= 0, got {epochs}")
    if not epochs:
        return None
    return WeightAverage(model, max(epochs * steps_per_epoch, 1.0))
