"""Training under torchrun: every rank takes the same number of steps, and two CPU processes keep
identical replicas on uneven shards."""

from __future__ import annotations

import os
import socket
import time

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp

from disc_grade.models.training.batches import epoch_batches
from disc_grade.models.training.finetune import finetune_grader
from tests.models.training.tiny import PARAMS, VARIANT, tiny_rois


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
