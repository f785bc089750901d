"""Leave-site-out folds: which sites are left out, and no fold ever trains on (or stops on) the
site it scores, nor reads a test study."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import disc_grade.models.training.folds as folds
from disc_grade.models.training.fold_plan import SITE_OUT, fold_sites
from tests.models.training.every_fold import every_fold
from tests.models.training.tiny import PARAMS, VARIANT, tiny_rois

CONTRASTIVE = {**VARIANT, "name": "contrastive", "init": "pretrained", "encoder_lr_scale": 0.3}


def _cohort() -> tuple[np.ndarray, pd.DataFrame, pd.Series]:
    """16 studies from three sites (A twice as many as B and C); every site has training,
    validation and test studies."""
    rois, index = tiny_rois(48)
    study = index["study_id"].to_numpy() - index["study_id"].min()
    index["split"] = np.array(["train", "train", "validation", "test"])[study // 4]
    sites = pd.Series(np.array(["A", "A", "B", "C"])[study % 4], index=index.index)
    return rois, index, sites


def test_fold_sites_are_the_known_training_sites_largest_first():
    sites = pd.Series(["B", "A", "A", "unknown", "C", "C", "C", "D"])
    splits = pd.Series(["train"] * 7 + ["test"])
    assert fold_sites(sites, splits, None) == ["C", "A", "B"]  # D has no training study
    assert fold_sites(sites, splits, 2) == ["C", "A"]
    assert fold_sites(sites, splits, 0) == []
    assert fold_sites(pd.Series(["A", "A"]), pd.Series(["train", "train"]), None) == []
    with pytest.raises(ValueError, match="max_sites"):
        fold_sites(sites, splits, -1)


def spy_on_training(monkeypatch) -> list[tuple[str, object]]:
    """What every fold trains: ("finetune", its index) and ("pretrain", its number of ROIs), in
    order, while the folds train as they do."""
    seen = []
    real_finetune, real_pretrain = folds.finetune_grader, folds.pretrain_encoder

    def finetune(fold_rois, fold_index, encoder, params, variant, **kwargs):
        seen.append(("finetune", fold_index.copy()))
        return real_finetune(fold_rois, fold_index, encoder, params, variant, **kwargs)

    def pretrain(train_rois, params, **kwargs):
        seen.append(("pretrain", len(train_rois)))
        return real_pretrain(train_rois, params, **kwargs)

    monkeypatch.setattr(folds, "finetune_grader", finetune)
    monkeypatch.setattr(folds, "pretrain_encoder", pretrain)
    return seen


def test_a_fold_never_trains_or_stops_on_the_site_it_scores(monkeypatch):
    rois, index, sites = _cohort()
    seen = spy_on_training(monkeypatch)
    table = every_fold(rois, index, sites, PARAMS, PARAMS, [VARIANT, CONTRASTIVE], None)["site"][0]

    site_of = dict(zip(index["study_id"], sites, strict=False))
    by_site = {s: set(index.loc[sites == s, "study_id"]) for s in "ABC"}
    test_studies = set(index.loc[index["split"] == "test", "study_id"])
    assert sorted(table["fold_site"].unique()) == ["A", "B", "C"]
    finetunes = [i for kind, i in seen if kind == "finetune"]
    assert len(finetunes) == 6 and sum(kind == "pretrain" for kind, _ in seen) == 3
    for fold_index in finetunes:
        left_out = {site_of[s] for s in fold_index.loc[fold_index["split"] == SITE_OUT, "study_id"]}
        assert len(left_out) == 1
        (site,) = left_out
        fitted = fold_index[fold_index["split"].isin(["train", "validation"])]
        assert not set(fitted["study_id"]) & by_site[site], f"a fold trained on '{site}'"
        assert not set(fold_index["study_id"]) & test_studies, "a fold read a test study"
    # the left-out rows graded are that site's training and validation rows, as trained and adapted
    out = table[table["split"] == SITE_OUT]
    for (site, variant, adapted), rows in out.groupby(["fold_site", "variant", "adapted"]):
        expected = by_site[site] - test_studies
        assert set(rows["study_id"]) == expected, (site, variant, adapted)
    assert set(table.loc[table["split"] != SITE_OUT, "split"]) == {"validation"}
    assert not table.loc[table["split"] == "validation", "adapted"].any()


def test_without_two_training_sites_nothing_is_left_out():
    rois, index = tiny_rois(36)
    one = pd.Series("A", index=index.index)
    assert every_fold(rois, index, one, PARAMS, PARAMS, [VARIANT], None)["site"][0].empty
