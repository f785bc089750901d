"""A checkpoint resumes only the run that made it: same inputs, weights handed in, parameters, code."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
import torch

import disc_grade.models.training.checkpoint as checkpoint_module
from disc_grade.models.training.checkpoint import fingerprint, run_key
from disc_grade.models.training.finetune import finetune_grader
from disc_grade.models.training.pretrain import pretrain_encoder
from tests.models.training.tiny import PARAMS, VARIANT, resumed_epochs, tiny_rois

CONTRASTIVE = {**VARIANT, "name": "contrastive", "init": "pretrained", "encoder_lr_scale": 0.3}


def test_fingerprints_follow_content_not_shape():
    a = np.zeros((4, 3, 8, 8), dtype=np.float16)
    b = a.copy()
    b[2, 1, 3, 3] = 1
    assert fingerprint(a) == fingerprint(a.copy()) != fingerprint(b)
    table = pd.DataFrame({"study_id": [1, 2], "split": ["train", "test"]})
    assert fingerprint(table) != fingerprint(table.assign(split=["test", "train"]))
    w = {"w": torch.zeros(3)}
    assert fingerprint(w) != fingerprint({"w": torch.tensor([0.0, 0.0, 1e-6])})
    assert run_key(x=a)["code"] == checkpoint_module.code_version()


def _same_model(a, b) -> bool:
    return all(torch.equal(v, b.state_dict()[k]) for k, v in a.state_dict().items())


def _resplit(index: pd.DataFrame) -> pd.DataFrame:
    """Another split seed: the same ROIs, other studies in train and test."""
    splits = index["split"].to_numpy().copy()
    splits[:6], splits[-6:] = splits[-6:].copy(), splits[:6].copy()
    return index.assign(split=splits)


def test_a_new_split_retrains_instead_of_resuming(tmp_path, caplog):
    rois, index = tiny_rois()
    ckpt = tmp_path / "scratch.ckpt"
    finetune_grader(rois, index, None, PARAMS, VARIANT, checkpoint=ckpt)
    other = _resplit(index)
    with caplog.at_level(logging.INFO):
        resumed, _, pred = finetune_grader(rois, other, None, PARAMS, VARIANT, checkpoint=ckpt)
    fresh, _, pred_fresh = finetune_grader(rois, other, None, PARAMS, VARIANT)
    assert _same_model(resumed, fresh)
    pd.testing.assert_frame_equal(pred, pred_fresh)
    assert "split_table" in caplog.text and "starting afresh" in caplog.text


def test_new_encoder_weights_retrain_the_grader(tmp_path):
    rois, index = tiny_rois()
    w1, _ = pretrain_encoder(rois, {**PARAMS, "epochs": 1})
    w2, _ = pretrain_encoder(rois, {**PARAMS, "epochs": 1, "temperature": 0.5})
    ckpt = tmp_path / "contrastive.ckpt"
    finetune_grader(rois, index, w1, PARAMS, CONTRASTIVE, checkpoint=ckpt)
    resumed, _, _ = finetune_grader(rois, index, w2, PARAMS, CONTRASTIVE, checkpoint=ckpt)
    fresh, _, _ = finetune_grader(rois, index, w2, PARAMS, CONTRASTIVE)
    assert _same_model(resumed, fresh)


def test_a_new_temperature_retrains_the_encoder(tmp_path):
    rois, _ = tiny_rois()
    ckpt = tmp_path / "pretraining.ckpt"
    pretrain_encoder(rois, {**PARAMS, "epochs": 2}, checkpoint=ckpt)
    changed = {**PARAMS, "epochs": 2, "temperature": 0.7}
    resumed, curve = pretrain_encoder(rois, changed, checkpoint=ckpt)
    fresh, curve_fresh = pretrain_encoder(rois, changed)
    pd.testing.assert_frame_equal(curve, curve_fresh)
    assert all(torch.equal(v, fresh[k]) for k, v in resumed.items())


def test_new_roi_pixels_of_the_same_shape_retrain(tmp_path):
    # a new roi.extent_mm cuts other pixels into an array of the same shape
    rois, index = tiny_rois()
    ckpt = tmp_path / "scratch.ckpt"
    finetune_grader(rois, index, None, PARAMS, VARIANT, checkpoint=ckpt)
    wider = np.roll(rois, 2, axis=-1)
    resumed, _, _ = finetune_grader(wider, index, None, PARAMS, VARIANT, checkpoint=ckpt)
    fresh, _, _ = finetune_grader(wider, index, None, PARAMS, VARIANT)
    assert _same_model(resumed, fresh)


def test_new_training_code_retrains(tmp_path, monkeypatch, caplog):
    """Only the code differs (same data, same settings, a finished checkpoint): the run starts
    afresh and says that the code changed."""
    rois, index = tiny_rois()
    ckpt = tmp_path / "scratch.ckpt"
    finetune_grader(rois, index, None, PARAMS, VARIANT, checkpoint=ckpt)
    monkeypatch.setattr(checkpoint_module, "code_version", lambda: "another version")
    with caplog.at_level(logging.INFO, logger="disc_grade.models.training"):
        _, curve, _ = finetune_grader(rois, index, None, PARAMS, VARIANT, checkpoint=ckpt)
    assert resumed_epochs(caplog.text, ckpt) is None, caplog.text
    assert "made from other code; starting afresh" in caplog.text
    assert curve["epoch"].tolist() == [1, 2, 3]


def test_a_checkpoint_needs_a_run_key(tmp_path):
    from disc_grade.models.training.engine import LoopConfig, fit

    with pytest.raises(ValueError, match="run key"):
        fit(
            torch.nn.Linear(1, 1),
            None,
            4,
            lambda m: {},
            None,
            LoopConfig(epochs=1, batch_size=2, seed=0),
            checkpoint=tmp_path / "x.ckpt",
        )
