"""The ablation runner: recipes merge onto conf, supervised pretraining reads only drawn labels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import disc_grade.models.training.ablation as ablation
from disc_grade.models.training.ablation import merged, recipes_from_params, run_ablation

PRETRAINING = {
    "encoder": {"depth": 10, "stem_stride": 2},
    "supervised_weight": 0.0,
    "epochs": 1,
    "device": "cpu",
    "augment": {"blur": 0.6, "noise": 0.05},
}
FINETUNING = {"encoder": {"depth": 10, "stem_stride": 2}, "epochs": 1, "device": "cpu"}
VARIANTS = {
    "scratch": {"name": "scratch", "init": "random", "head_epochs": 0},
    "contrastive": {"name": "contrastive", "init": "pretrained", "head_epochs": 0},
}


def test_overrides_merge_nested_settings_and_refuse_unknown_ones():
    out = merged(PRETRAINING, {"augment": {"blur": 0.0}, "epochs": 3})
    assert out["augment"] == {"blur": 0.0, "noise": 0.05} and out["epochs"] == 3
    assert PRETRAINING["augment"]["blur"] == 0.6  # the base is not modified
    with pytest.raises(ValueError, match="'epochz'"):
        merged(PRETRAINING, {"epochz": 3})
    with pytest.raises(ValueError, match="variant must be one of"):
        recipes_from_params({"x": {"variant": "nope"}}, PRETRAINING, FINETUNING, VARIANTS)
    with pytest.raises(ValueError, match="unknown key"):
        recipes_from_params(
            {"x": {"variant": "scratch", "lr": 1}}, PRETRAINING, FINETUNING, VARIANTS
        )
    (recipe,) = recipes_from_params(
        {
            "lpft": {
                "variant": "contrastive",
                "variant_params": {"head_epochs": 5},
                "pretraining": {"supervised_weight": 0.5},
            }
        },
        PRETRAINING,
        FINETUNING,
        VARIANTS,
    )
    assert recipe.variant == {"name": "lpft", "init": "pretrained", "head_epochs": 5}
    assert recipe.pretraining["supervised_weight"] == 0.5 and recipe.pretrained


def _index(n_studies=20):
    rows = []
    for s in range(n_studies):
        split = "train" if s < 12 else ("validation" if s < 16 else "test")
        for level, label in zip(("l3_l4", "l4_l5", "l5_s1"), (0, s % 3, 0), strict=True):
            rows.append(
                {
                    "study_id": 10**9 + s,
                    "level": level,
                    "label": label,
                    "split": split,
                    "point_x": 3.5,
                    "point_y": 3.5,
                    "roi_mm_per_px": 1.0,
                }
            )
    return pd.DataFrame(rows)


def test_supervised_pretraining_reads_only_the_drawn_studies_labels(monkeypatch):
    index = _index()
    rois = np.zeros((len(index), 3, 8, 8), dtype=np.float16)
    seen_labels, pretrain_calls = [], []

    def fake_pretrain(train_rois, params, labels=None, **kwargs):
        pretrain_calls.append(params)
        seen_labels.append(labels)
        return {}, pd.DataFrame()

    def fake_finetune(rois_, subset, weights, params, variant):
        rows = subset[subset["split"] != "train"]
        table = rows[["study_id", "level", "split", "label"]].assign(
            variant=variant["name"], predicted=0
        )
        return None, None, table

    monkeypatch.setattr(ablation, "pretrain_encoder", fake_pretrain)
    monkeypatch.setattr(ablation, "finetune_grader", fake_finetune)
    monkeypatch.setattr(ablation, "probe_weights", lambda *a, **k: {"probe_balanced_accuracy": 0.5})
    recipes = recipes_from_params(
        {
            "scratch": {"variant": "scratch"},
            "simclr": {"variant": "contrastive"},
            "supcon": {"variant": "contrastive", "pretraining": {"supervised_weight": 0.5}},
        },
        PRETRAINING,
        FINETUNING,
        VARIANTS,
    )
    predictions, probes = run_ablation(rois, index, recipes, [0.25, 1.0], [0, 1])
    # NT-Xent alone: one pretraining for every cell, no label handed over
    assert sum(p["supervised_weight"] == 0 for p in pretrain_calls) == 1
    supervised = [labels for labels in seen_labels if labels is not None]
    assert len(supervised) == 3  # fraction 1.0 draws every study whatever the seed: cached
    n_train_discs = int((index["split"] == "train").sum())
    counts = sorted(int((labels >= 0).sum()) for labels in supervised)
    assert all(len(labels) == n_train_discs for labels in supervised)
    assert counts[-1] == n_train_discs and counts[0] < n_train_discs  # 25%: only drawn studies
    assert set(probes["recipe"]) == {"scratch", "simclr", "supcon"} and len(probes) == 12
    assert set(predictions["split"]) == {"validation", "test"}
    assert {"fraction", "seed", "n_train_studies"} <= set(predictions.columns)
