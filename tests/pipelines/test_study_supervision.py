"""A label-efficiency cell never lets pretraining read labels beyond its budget."""

from __future__ import annotations

import numpy as np
import pandas as pd

import disc_grade.pipelines.study.nodes as study_nodes


def _index(n_studies=12):
    rows = []
    for s in range(n_studies):
        split = "train" if s < 8 else "test"
        for level in ("l3_l4", "l4_l5"):
            rows.append(
                {
                    "roi": len(rows),
                    "study_id": 10**9 + s,
                    "level": level,
                    "label": s % 3,
                    "split": split,
                }
            )
    return pd.DataFrame(rows)


def _run(monkeypatch, supervised_weight, fraction):
    calls = []
    monkeypatch.setattr(
        study_nodes,
        "pretrain_encoder",
        lambda rois, params, labels=None: calls.append(labels) or ({"re": 1}, None),
    )
    encoders = []

    def fake_finetune(rois, index, encoder, params, variant):
        encoders.append(encoder)
        return None, None, index.assign(variant=variant["name"])

    monkeypatch.setattr(study_nodes, "finetune_grader", fake_finetune)
    index = _index()
    study_nodes.finetune_on_fraction(
        np.zeros((len(index), 3, 4, 4), dtype=np.float16),
        index,
        {"shared": 1},
        {"supervised_weight": supervised_weight},
        {},
        {"c": {"name": "contrastive"}},
        {"fraction": fraction, "seed": 0},
    )
    return calls, encoders


def test_a_supervised_pretraining_is_redone_on_the_drawn_labels_only(monkeypatch):
    calls, encoders = _run(monkeypatch, 0.5, 0.25)
    (labels,) = calls
    assert len(labels) == 16  # every training disc is seen, labelled or not
    assert 0 < (labels >= 0).sum() < 16  # only the drawn studies' grades
    assert encoders == [{"re": 1}]


def test_no_pretraining_again_without_labels_or_at_the_full_budget(monkeypatch):
    assert _run(monkeypatch, 0.0, 0.25) == ([], [{"shared": 1}])
    assert _run(monkeypatch, 0.5, 1.0) == ([], [{"shared": 1}])
