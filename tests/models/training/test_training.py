"""The training loop: a step learns, runs are deterministic on CPU, resume equals an uninterrupted
run, a changed setting starts afresh (DDP: ``test_distributed.py``)."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
import torch

import disc_grade.models.training.finetune as finetune_module
from disc_grade.models.training.engine import LoopConfig, fit
from disc_grade.models.training.finetune import finetune_grader
from disc_grade.models.training.pretrain import pretrain_encoder
from tests.models.training.tiny import PARAMS, VARIANT, resumed_epochs, tiny_rois


def _weights(model) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_one_step_reduces_the_loss_on_a_fixed_batch():
    from disc_grade.models.components.losses import WeightedFocalLoss
    from disc_grade.models.components.networks import DiscGrader, build_encoder

    torch.manual_seed(0)
    model = DiscGrader(build_encoder(depth=10), dropout=0.0)
    rois, index = tiny_rois()
    x = torch.from_numpy(rois[:16].astype(np.float32))
    y = torch.as_tensor(index["label"].to_numpy()[:16])
    loss_fn = WeightedFocalLoss([1, 2, 4])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    model.train()
    loss = loss_fn(model(x)[0], y)
    loss.backward()
    optimizer.step()
    with torch.no_grad():
        after = loss_fn(model(x)[0], y)
    assert float(after) < float(loss.detach())


def test_finetuning_is_deterministic_on_cpu():
    rois, index = tiny_rois()
    a, curve_a, pred_a = finetune_grader(rois, index, None, PARAMS, VARIANT)
    b, curve_b, pred_b = finetune_grader(rois, index, None, PARAMS, VARIANT)
    pd.testing.assert_frame_equal(curve_a, curve_b)
    pd.testing.assert_frame_equal(pred_a, pred_b)
    for k, v in a.state_dict().items():
        assert torch.equal(v, b.state_dict()[k]), k


def test_resume_from_checkpoint_equals_an_uninterrupted_run(tmp_path, caplog):
    """The third call must resume (the log says after which epoch): a fresh deterministic run
    would give the same weights."""
    rois, index = tiny_rois()
    params = dict(PARAMS)
    whole, _, pred_whole = finetune_grader(
        rois, index, None, params, VARIANT, checkpoint=tmp_path / "whole.ckpt"
    )
    # interrupted after one epoch, then resumed from the checkpoint
    original = finetune_module.fit

    def interrupted(*args, **kwargs):
        return original(*args, **kwargs, stop_after=1)

    finetune_module.fit = interrupted
    try:
        finetune_grader(rois, index, None, params, VARIANT, checkpoint=tmp_path / "resumed.ckpt")
    finally:
        finetune_module.fit = original
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="disc_grade.models.training"):
        resumed, curve, pred_resumed = finetune_grader(
            rois, index, None, params, VARIANT, checkpoint=tmp_path / "resumed.ckpt"
        )
    assert resumed_epochs(caplog.text, tmp_path / "resumed.ckpt") == 1, caplog.text
    assert len(curve) == PARAMS["epochs"]
    pd.testing.assert_frame_equal(pred_whole, pred_resumed)
    for k, v in whole.state_dict().items():
        assert torch.equal(v, resumed.state_dict()[k]), k


def test_a_changed_setting_does_not_resume(tmp_path, caplog):
    """A finished checkpoint of another learning rate is not taken over: the run says why it
    starts afresh and gives what a fresh run under the new setting gives (a resumed one would
    hand back the old run's weights and curve)."""
    rois, index = tiny_rois()
    finetune_grader(rois, index, None, PARAMS, VARIANT, checkpoint=tmp_path / "c.ckpt")
    changed = {**PARAMS, "lr": 0.001}
    with caplog.at_level(logging.INFO, logger="disc_grade.models.training"):
        rerun, curve, predictions = finetune_grader(
            rois, index, None, changed, VARIANT, checkpoint=tmp_path / "c.ckpt"
        )
    assert resumed_epochs(caplog.text, tmp_path / "c.ckpt") is None, caplog.text
    assert "made from other params; starting afresh" in caplog.text
    fresh, curve_fresh, predictions_fresh = finetune_grader(rois, index, None, changed, VARIANT)
    pd.testing.assert_frame_equal(curve, curve_fresh)
    pd.testing.assert_frame_equal(predictions, predictions_fresh)
    for k, v in fresh.state_dict().items():
        assert torch.equal(v, rerun.state_dict()[k]), k


def test_pretraining_returns_encoder_weights_that_finetuning_loads():
    rois, index = tiny_rois()
    weights, curve = pretrain_encoder(rois, {**PARAMS, "epochs": 2, "temperature": 0.2})
    assert len(curve) == 2 and np.isfinite(curve["train_loss"]).all()
    model, _, _ = finetune_grader(
        rois,
        index,
        weights,
        {**PARAMS, "epochs": 1},
        {
            "name": "frozen",
            "init": "pretrained",
            "freeze_encoder": True,
            "encoder_lr_scale": 0.0,
            "head_epochs": 0,
        },
    )
    for k, v in weights.items():
        if not k.endswith("num_batches_tracked") and "running" not in k:
            assert torch.equal(model.encoder.state_dict()[k], v), f"frozen encoder changed {k}"


def test_lp_ft_keeps_the_encoder_and_its_statistics_fixed_for_the_head_epochs():
    rois, index = tiny_rois()
    weights, _ = pretrain_encoder(rois, {**PARAMS, "epochs": 1})
    lpft = {
        "name": "contrastive",
        "init": "pretrained",
        "freeze_encoder": False,
        "encoder_lr_scale": 1.0,
        "head_epochs": 2,
    }
    original = finetune_module.fit

    def two_epochs(*args, **kwargs):  # the run is cut after the head epochs
        return original(*args, **kwargs, stop_after=2)

    finetune_module.fit = two_epochs
    try:
        model, curve, _ = finetune_grader(rois, index, weights, {**PARAMS, "epochs": 4}, lpft)
    finally:
        finetune_module.fit = original
    assert len(curve) == 2
    for k, v in weights.items():  # running statistics included
        assert torch.equal(model.encoder.state_dict()[k], v), f"encoder changed in LP: {k}"
    rates = []  # the encoder's learning rate for each next epoch, as the schedule sets it

    def recording(model, step, n_train, evaluate, optimizer, *args, **kwargs):
        def evaluate_and_record(net):
            rates.append(optimizer.param_groups[1]["lr"] / PARAMS["lr"])
            return evaluate(net)

        return original(model, step, n_train, evaluate_and_record, optimizer, *args, **kwargs)

    finetune_module.fit = recording
    try:
        finetune_grader(rois, index, weights, {**PARAMS, "epochs": 4, "patience": 0}, lpft)
    finally:
        finetune_module.fit = original
    assert rates == pytest.approx([0.0, 1.0, 0.5, 0.0])  # held for 2 epochs, then its own cosine
    with pytest.raises(ValueError, match="head_epochs"):
        finetune_grader(rois, index, weights, PARAMS, {**lpft, "head_epochs": 3})


def test_supervised_pretraining_needs_labels_and_reads_them():
    rois, index = tiny_rois()
    supervised = {**PARAMS, "epochs": 1, "supervised_weight": 0.5}
    with pytest.raises(ValueError, match="labels"):
        pretrain_encoder(rois, supervised)
    with pytest.raises(ValueError, match="supervised_weight"):
        pretrain_encoder(rois, {**supervised, "supervised_weight": 1.5}, labels=index["label"])
    labels = index["label"].to_numpy()
    a, _ = pretrain_encoder(rois, supervised, labels=labels)
    shuffled = np.random.default_rng(0).permutation(labels)  # another partition of the discs
    b, _ = pretrain_encoder(rois, supervised, labels=shuffled)
    c, _ = pretrain_encoder(rois, {**PARAMS, "epochs": 1}, labels=shuffled)
    d, _ = pretrain_encoder(rois, {**PARAMS, "epochs": 1})
    assert any(not torch.equal(a[k], b[k]) for k in a), "SupCon reads the labels"
    assert all(torch.equal(c[k], d[k]) for k in c), "NT-Xent alone reads no label"


def test_pretrained_variant_without_encoder_is_refused():
    rois, index = tiny_rois()
    with pytest.raises(ValueError, match="pretrained"):
        finetune_grader(
            rois, index, None, PARAMS, {**VARIANT, "name": "contrastive", "init": "pretrained"}
        )


def test_loop_config_is_validated():
    with pytest.raises(ValueError, match="epochs"):
        fit(
            torch.nn.Linear(1, 1),
            None,
            4,
            lambda m: {},
            None,
            LoopConfig(epochs=0, batch_size=4, seed=0),
        )
