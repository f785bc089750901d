"""Study folds: every training and validation study is graded once per variant by a fold model
that never trained or stopped on it, no fold reads a test study, and the choice made on them
follows the out-of-fold figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from disc_grade.evaluation.log_loss import weighted_log_loss
from disc_grade.models.training.fold_plan import FOLD_OUT, fold_numbers
from disc_grade.rsna import PROB_COLUMNS
from disc_grade.selection.calibrate import calibrate_on_validation
from disc_grade.selection.fold_average import fold_average
from disc_grade.selection.fold_cells import no_study_folds
from disc_grade.selection.out_of_fold import out_of_fold_scores
from disc_grade.selection.variants import choose_grader
from tests.models.training.every_fold import every_fold
from tests.models.training.test_site_folds import CONTRASTIVE, spy_on_training
from tests.models.training.tiny import PARAMS, VARIANT, tiny_rois
from tests.selection.test_sites import CALIBRATION, PRIORS, _validation


def _cohort(n_folds: int = 3) -> tuple[np.ndarray, pd.DataFrame]:
    """18 studies: 12 training, 3 validation, 3 test; the non-test ones dealt into folds as
    the split deals them (in turn, by study)."""
    rois, index = tiny_rois(54)
    study = index["study_id"].to_numpy() - index["study_id"].min()
    index["split"] = np.where(study < 12, "train", np.where(study < 15, "validation", "test"))
    index["fold"] = np.where(study < 15, study % n_folds, -1)
    index["level"] = np.array(["l3_l4", "l4_l5", "l5_s1"])[np.arange(len(index)) % 3]
    return rois, index


def test_fold_numbers_need_two_folds_and_a_fold_for_every_row():
    _, index = _cohort()
    assert fold_numbers(index) == [0, 1, 2]
    assert fold_numbers(index.drop(columns="fold")) == []
    assert fold_numbers(index.assign(fold=-1)) == []
    assert fold_numbers(index.assign(fold=np.where(index["fold"] >= 0, 0, -1))) == []
    broken = index.copy()
    broken.loc[0, "fold"] = -1  # a training row the split dealt into no fold
    with pytest.raises(ValueError, match="no fold"):
        fold_numbers(broken)


def test_no_fold_trains_or_stops_on_the_studies_it_grades(monkeypatch):
    rois, index = _cohort()
    seen = spy_on_training(monkeypatch)
    table, features, graders = every_fold(
        rois, index, None, PARAMS, PARAMS, [VARIANT, CONTRASTIVE]
    )["study"]

    test_studies = set(index.loc[index["split"] == "test", "study_id"])
    finetunes = [i for kind, i in seen if kind == "finetune"]
    assert len(finetunes) == 6 and sum(kind == "pretrain" for kind, _ in seen) == 3
    for fold_index in finetunes:
        left_out = set(fold_index.loc[fold_index["split"] == FOLD_OUT, "fold"])
        assert len(left_out) == 1
        fitted = fold_index[fold_index["split"].isin(["train", "validation"])]
        assert not left_out & set(fitted["fold"]), f"a fold trained or stopped on fold {left_out}"
        assert not set(fitted["study_id"]) & test_studies, "a fold trained on a test study"
        graded = fold_index.loc[fold_index["split"] == "test", "study_id"]
        assert set(graded) == test_studies  # graded by every fold model, for their average
    # every training and validation study graded out of fold once per variant, by its own fold
    out = table[table["split"] == FOLD_OUT]
    assert not out["adapted"].any()
    fold_of = index.drop_duplicates("study_id").set_index("study_id")["fold"]
    assert (out["fold_left_out"] == out["study_id"].map(fold_of)).all()
    for _, rows in out.groupby("variant"):
        assert not rows.duplicated(["study_id", "condition", "level"]).any()
        assert set(rows["study_id"]) == set(index["study_id"]) - test_studies
    assert set(table["split"]) == {FOLD_OUT, "validation", "test"}
    # each fold model's features: its own training and validation rows and the fold it left out,
    # never a test study (the heads that read them are judged on the left-out rows)
    assert set(features["split"]) == {"train", "validation", FOLD_OUT}
    assert not set(features["study_id"]) & test_studies
    for (k, _variant), rows in features.groupby(["fold_left_out", "variant"]):
        fold = rows["study_id"].map(fold_of)
        assert ((fold == k) == (rows["split"] == FOLD_OUT)).all()
        assert len(rows) == int((~index["split"].isin(["test"])).sum())
        assert rows.filter(regex=r"^f\d+$").shape[1] > 3
    # each fold model's weights, by variant and fold: what the fold models' average ships with
    assert {v: sorted(g) for v, g in graders.items()} == {
        "scratch": ["0", "1", "2"],
        "contrastive": ["0", "1", "2"],
    }
    first, second = graders["scratch"]["0"], graders["scratch"]["1"]
    assert first.keys() == second.keys()
    assert any(not first[k].equal(second[k]) for k in first)  # three models, not one three times


def test_the_out_of_fold_scores_see_every_non_test_study_once():
    rois, index = _cohort()
    table, _, _ = every_fold(rois, index, None, PARAMS, PARAMS, [VARIANT])["study"]
    scores = out_of_fold_scores(table, PRIORS, CALIBRATION)
    assert set(scores) == {"scratch"}
    figures = scores["scratch"]
    assert figures["folds"] == 3 and figures["n_studies"] == 15 and figures["n_targets"] == 45
    assert np.isfinite(figures["log_loss"]) and 0 <= figures["balanced_accuracy"] <= 1
    assert out_of_fold_scores(no_study_folds(), PRIORS, CALIBRATION) == {}
    # the fold models averaged: by the log loss's convexity, no worse than their mean log loss
    figures, rows = fold_average(table, PRIORS, CALIBRATION, {"n_resamples": 20})
    averaged = figures["scratch"]
    assert averaged["n_folds"] == 3 and set(averaged) == {"n_folds", "test"}
    assert averaged["test"]["n_studies"] == 3 and len(rows) == 9
    assert set(rows["variant"]) == {"scratch"} and set(rows["split"]) == {"test"}
    each, probs = [], []
    for _, fold in table.groupby("fold_left_out"):
        _, calibrated = calibrate_on_validation(
            fold.drop(columns=["fold_left_out", "adapted"]), PRIORS, CALIBRATION
        )
        test = calibrated[calibrated["split"] == "test"].sort_values(["study_id", "level"])
        labels = test["label"].to_numpy(int)
        probs.append(test[PROB_COLUMNS].to_numpy())
        each.append(weighted_log_loss(labels, probs[-1]))
    assert averaged["test"]["log_loss"] <= np.mean(each) + 1e-9
    expected = weighted_log_loss(labels, np.mean(probs, axis=0))
    assert averaged["test"]["log_loss"] == pytest.approx(expected)
    assert len(set(np.round(each, 6))) > 1  # the fold models differ: the average is not one of them
    twice = pd.concat([table, table[table["fold_left_out"] == 0].assign(fold_left_out=1)])
    with pytest.raises(ValueError, match="left out twice"):
        out_of_fold_scores(twice, PRIORS, CALIBRATION)


def test_without_folds_nothing_is_trained_again():
    rois, index = _cohort()
    table, features, graders = every_fold(
        rois, index.assign(fold=-1), None, PARAMS, PARAMS, [VARIANT]
    )["study"]
    assert table.empty and features.empty and graders == {}


def test_the_choice_follows_the_out_of_fold_figures_where_there_are_folds():
    predictions, calibration = _validation({"contrastive": 0.62, "scratch": 0.55, "frozen": 0.70})
    folds = {
        v: {
            "folds": 5,
            "n_studies": 200,
            "n_targets": 1000,
            "log_loss": loss,
            "balanced_accuracy": ba,
        }
        for v, loss, ba in (
            ("contrastive", 0.50, 0.7),
            ("scratch", 0.58, 0.6),
            ("frozen", 0.9, 0.4),
        )
    }
    split_only = choose_grader(predictions, calibration, {"by": "log_loss"})
    assert split_only["variant"] == "scratch" and not split_only["out_of_fold"]["used"]
    chosen = choose_grader(predictions, calibration, {"by": "log_loss"}, None, None, folds)
    assert chosen["variant"] == "contrastive" and chosen["out_of_fold"]["used"]
    assert chosen["chosen_on_split"] == "scratch"
    assert chosen["validation"]["contrastive"]["score"] == pytest.approx(-0.50)
    assert chosen["validation"]["scratch"]["split_score"] == pytest.approx(-0.55)
    assert "5 study folds, 200" in chosen["out_of_fold"]["why"]
    by_accuracy = choose_grader(
        predictions, calibration, {"by": "balanced_accuracy"}, None, None, folds
    )
    assert by_accuracy["validation"]["frozen"]["score"] == pytest.approx(0.4)
