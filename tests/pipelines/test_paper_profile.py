"""The README's GPU profile (``--env=paper``) runs end to end, here on a tiny phantom on the CPU
with every schedule cut to one epoch: its 96-px ROIs, ResNet-18 graders and batch sizes are the
paper's, so a change that breaks the profile fails here, not on a user's GPU."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from disc_grade.conditions import CONDITION_NAMES
from tests.conftest import TINY_PHANTOM, run_kedro

ONE_EPOCH = {
    "pretraining": {"epochs": 1, "batch_size": 32, "checkpoint": None},
    "finetuning": {"epochs": 1, "batch_size": 32, "checkpoint_dir": None},
    "localiser": {"epochs": 1, "batch_size": 8, "workers": 1},
    "roi": {"workers": 1},
    "evaluation": {"n_resamples": 50},
}


@pytest.mark.e2e
def test_the_paper_profile_trains_every_condition_on_a_tiny_phantom(kedro_project):
    run_kedro(kedro_project, "phantom", {"phantom": TINY_PHANTOM})
    # the profile's five study folds are left out here (each would fine-tune every variant once
    # more); the folds' own tests run them on the default profile
    params = {
        "ingestion": {"workers": 1},
        "split": {"n_folds": 0},
        **{name: ONE_EPOCH for name in CONDITION_NAMES},
    }
    run_kedro(kedro_project, "train", params, env="paper")
    data = kedro_project / "data"
    for name in CONDITION_NAMES:
        rois = np.load(data / f"05_model_input/{name}/rois.npy", mmap_mode="r")
        assert rois.shape[-2:] == (96, 96), (name, rois.shape)  # the paper's ROI, not the demo's
        curve = pd.read_csv(data / f"08_reporting/{name}/pretraining_curve.csv")
        assert len(curve) == 1, name
    report = (data / "08_reporting/report.md").read_text()
    assert report.startswith("# disc-grade evaluation report") and "## Summary" in report
