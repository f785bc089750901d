"""The training loop: a step learns, runs are deterministic on CPU, resume equals an uninterrupted run, DDP."""

from __future__ import annotations

import os
import socket
import time

import numpy as np
import pandas as pd
import pytest
import torch
import torch.multiprocessing as mp

import disc_grade.models.training.finetune as finetune_module
from disc_grade.models.training.batches import epoch_batches
from disc_grade.models.training.engine import LoopConfig, fit
from disc_grade.models.training.finetune import finetune_grader
from disc_grade.models.training.pretrain import pretrain_encoder
from disc_grade.rsna import SPINAL

SIZE = 24


def tiny_rois(n: int = 36, seed: int = 0) -> tuple[np.ndarray, pd.DataFrame]:
    """ROIs whose bright vertical band narrows with the label, like the canal."""
    rng = np.random.default_rng(seed)
    labels = np.array([0, 1, 2] * (n // 3))
    rois = rng.normal(0.2, 0.05, size=(n, 3, SIZE, SIZE)).astype(np.float32)
    for i, label in enumerate(labels):
        half = (6, 3, 1)[label]
        rois[i, :, :, SIZE // 2 - half : SIZE // 2 + half] += 0.8
    index = pd.DataFrame(
        {
            "study_id": np.arange(n) // 3 + 10**9,
            "condition": SPINAL,
            "level": ["l4_l5"] * n,
            "label": labels,
            "split": ["train"] * (n - 12) + ["validation"] * 6 + ["test"] * 6,
            "point_x": (SIZE - 1) / 2,
            "point_y": (SIZE - 1) / 2,
            "roi_mm_per_px": 1.0,
        }
    )
    return rois.astype(np.float16), index


PARAMS = {
    "encoder": {"depth": 10, "stem_stride": 2},
    "epochs": 3,
    "batch_size": 8,
    "lr": 0.003,
    "weight_decay": 0.0001,
    "dropout": 0.2,
    "class_weights": [1.0, 3.0, 5.0],
    "focal_gamma": 2.0,
    "localisation_weight": 1.0,
    "select_localisation_weight": 0.0,
    "projection_hidden": 64,
    "projection_dim": 32,
    "temperature": 0.2,
    "probe_every": 0,
    "probe_failure_margin": 0.05,
    "supervised_weight": 0.0,
    "slice_positives": False,
    "recalibrate_batchnorm": False,
    "seed": 5,
    "device": "cpu",
    "augment": {"rotation_deg": 5.0},
}
VARIANT = {
    "name": "scratch",
    "init": "random",
    "freeze_encoder": False,
    "encoder_lr_scale": 1.0,
    "head_epochs": 0,
}


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


@pytest.mark.parametrize("average_epochs", [0.0, 1.0])
def test_resume_from_checkpoint_equals_an_uninterrupted_run(tmp_path, average_epochs):
    """With a weight average too: the checkpoint carries it."""
    rois, index = tiny_rois()
    params = {**PARAMS, "average_epochs": average_epochs}
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
    resumed, curve, pred_resumed = finetune_grader(
        rois, index, None, params, VARIANT, checkpoint=tmp_path / "resumed.ckpt"
    )
    assert len(curve) == PARAMS["epochs"]
    pd.testing.assert_frame_equal(pred_whole, pred_resumed)
    for k, v in whole.state_dict().items():
        assert torch.equal(v, resumed.state_dict()[k]), k


def test_a_changed_setting_does_not_resume(tmp_path):
    rois, index = tiny_rois()
    finetune_grader(rois, index, None, PARAMS, VARIANT, checkpoint=tmp_path / "c.ckpt")
    _, curve, _ = finetune_grader(
        rois, index, None, {**PARAMS, "lr": 0.001}, VARIANT, checkpoint=tmp_path / "c.ckpt"
    )
    assert curve["epoch"].tolist() == [1, 2, 3]


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


def test_batchnorm_recalibration_takes_the_clean_rois_statistics():
    from disc_grade.models.components.networks import build_encoder
    from disc_grade.models.training.pretrain import recalibrate_batchnorm

    rois, _ = tiny_rois()
    torch.manual_seed(0)
    encoder = build_encoder(depth=10, in_channels=3)
    encoder.bn1.running_mean.fill_(5.0)  # statistics of augmented views, after many steps
    encoder.bn1.num_batches_tracked.fill_(100)
    recalibrate_batchnorm(encoder, rois, batch_size=7, device=torch.device("cpu"))
    with torch.no_grad():
        conv = encoder.conv1(torch.as_tensor(rois, dtype=torch.float32))
    assert torch.allclose(encoder.bn1.running_mean, conv.mean(dim=(0, 2, 3)), atol=1e-4)
    assert encoder.bn1.momentum == 0.1 and encoder.training


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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ddp_worker(rank: int, world: int, port: int, out: str) -> None:
    os.environ.update(
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        WORLD_SIZE=str(world),
        RANK=str(rank),
        LOCAL_RANK=str(rank),
    )
    torch.set_num_threads(1)
    rois, index = tiny_rois(144)
    index.loc[0, "split"] = "test"  # 131 training rows: shards of 66 and 65 rows
    params = {**PARAMS, "epochs": 2, "batch_size": 64}
    model, curve, _ = finetune_grader(rois, index, None, params, VARIANT)
    torch.save(
        {"weights": model.state_dict(), "loss": curve["train_loss"].tolist()},
        f"{out}/rank{rank}.pt",
    )
    torch.distributed.destroy_process_group()


@pytest.mark.parametrize("n_train", [1, 2, 3, 65, 66, 129, 130, 131, 132])
@pytest.mark.parametrize("world", [1, 2, 3, 4])
def test_every_rank_takes_the_same_number_of_steps(n_train, world):
    for epoch in range(3):
        shards = [epoch_batches(n_train, 64, 0, epoch, rank, world) for rank in range(world)]
        assert len({len(s) for s in shards}) == 1, [len(s) for s in shards]
        rows = torch.cat([b for s in shards for b in s]) if shards[0] else torch.tensor([])
        # every row is seen, but for a trailing batch of one row per rank (BatchNorm needs two)
        assert set(rows.tolist()) <= set(range(n_train))
        assert len(set(range(n_train)) - set(rows.tolist())) <= world


@pytest.mark.e2e
def test_ddp_on_two_cpu_processes_with_uneven_shards_keeps_replicas_identical(tmp_path):
    # 131 rows, batch 64, 2 ranks: without padding one rank takes 2 steps, the other 1 (a hang)
    context = mp.spawn(_ddp_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=False)
    deadline = time.monotonic() + 300
    while not context.join(timeout=5):
        if time.monotonic() > deadline:
            for process in context.processes:
                process.kill()
            pytest.fail("DDP training did not finish in 300 s: ranks out of step")
    r0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    r1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    for k, v in r0["weights"].items():
        if "running" in k or "num_batches" in k:
            continue  # BatchNorm statistics are per process, as in DDP without SyncBatchNorm
        assert torch.allclose(v, r1["weights"][k], atol=1e-6), k
    assert all(np.isfinite(r0["loss"]))
