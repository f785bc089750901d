"""A tiny training set and the settings that train on it in seconds, shared by the training tests."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

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


def resumed_epochs(log: str, checkpoint) -> int | None:
    """The epochs a run took over from ``checkpoint``, by the loop's own log line
    (``loop_state.resume``); None where it started afresh."""
    found = re.search(rf"resumed from {re.escape(str(checkpoint))} after epoch (\d+)", log)
    return int(found.group(1)) if found else None
