"""The weight average: a plain mean at first, then exponential; the loop evaluates, keeps and
returns it."""

from __future__ import annotations

import pytest
import torch

from disc_grade.models.training.averaging import WeightAverage, weight_average
from disc_grade.models.training.engine import fit
from disc_grade.models.training.loop_state import LoopConfig


def _set(model: torch.nn.Linear, value: float) -> None:
    with torch.no_grad():
        model.weight.fill_(value)


def test_the_first_steps_are_a_plain_mean_then_the_average_forgets():
    model = torch.nn.Linear(1, 1, bias=False)
    average = WeightAverage(model, horizon_steps=2)  # decay 0.5 once past the first steps
    for value in (1.0, 3.0):
        _set(model, value)
        average.update(model)
    assert float(average.module.weight) == pytest.approx(2.0)  # mean of 1 and 3
    _set(model, 10.0)
    average.update(model)  # decay min(0.5, 2/3) = 0.5
    assert float(average.module.weight) == pytest.approx(6.0)


def test_batchnorm_statistics_are_averaged_and_its_counter_follows():
    model = torch.nn.BatchNorm1d(2)
    average = WeightAverage(model, horizon_steps=4)
    model.running_mean.fill_(2.0)
    model.num_batches_tracked.fill_(7)
    average.update(model)
    assert torch.equal(average.module.running_mean, torch.full((2,), 2.0))
    assert int(average.module.num_batches_tracked) == 7


def test_no_average_at_zero_and_a_negative_horizon_is_refused():
    model = torch.nn.Linear(1, 1)
    assert weight_average(model, 0.0, 10) is None
    with pytest.raises(ValueError, match="average_epochs"):
        weight_average(model, -1.0, 10)
    with pytest.raises(ValueError, match="average_epochs"):
        LoopConfig(epochs=1, batch_size=2, seed=0, average_epochs=-1).validate()


def test_the_loop_evaluates_keeps_and_returns_the_average():
    """A weight pulled towards a target that jumps every step: the loop must hand back the
    average of the weights after every step (1.5 epochs' horizon), not the last step's."""
    torch.manual_seed(0)
    model = torch.nn.Linear(1, 1, bias=False)
    _set(model, 0.0)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    steps = {"n": 0}
    after = []  # the weight after each step, read at the start of the next and at the end

    def step(net, idx, generator):
        if steps["n"]:
            after.append(float(net.weight.detach()))
        steps["n"] += 1
        target = 4.0 if steps["n"] % 2 else -2.0
        return ((net.weight - target) ** 2).sum()

    evaluated = []

    def evaluate(net):
        evaluated.append(float(net.weight))
        return {"score": float(len(evaluated))}  # every epoch better: the last is kept

    config = LoopConfig(epochs=3, batch_size=4, seed=0, average_epochs=1.5)
    returned, _ = fit(model, step, 8, evaluate, optimizer, config)
    # the last step's weight: replay the last update from the weight before it
    before_last = after[-1]
    last_target = 4.0 if steps["n"] % 2 else -2.0
    after.append(before_last - 0.5 * 2 * (before_last - last_target))
    expected, decay = 0.0, 1 - 1 / (1.5 * 2)  # 2 steps an epoch
    for n, value in enumerate(after, start=1):
        d = min(decay, (n - 1) / n)
        expected = d * expected + (1 - d) * value
    assert len(after) == 6
    assert evaluated[-1] == pytest.approx(expected, abs=1e-6)
    assert float(returned.weight) == pytest.approx(expected, abs=1e-6)
    assert abs(float(returned.weight) - after[-1]) > 0.1  # not the last step's weight
