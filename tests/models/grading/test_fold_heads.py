"""The joint head, which reads a grader's features, graded out of fold: no fold's head fits or
stops on a study it grades, every training and validation study is graded once, and the fold
features travel to the joint stage and back."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from disc_grade.models.grading import fold_heads
from disc_grade.models.training.fold_plan import FOLD_OUT, SITE_OUT
from disc_grade.pipelines.split.nodes import training_priors
from disc_grade.rsna import CONDITIONS, LEVELS, SEVERITIES, SPINAL, label_column
from disc_grade.selection.heads import split_fold_features, with_fold_features
from disc_grade.selection.out_of_fold import calibrated_left_out

THRESHOLDS = (0.3, 1.1)
PARAMS = {
    "seed": 0,
    "width": 16,
    "dropout": 0.0,
    "lr": 0.02,
    "weight_decay": 0.0001,
    "epochs": 200,
    "patience": 30,
    "stop_fraction": 0.2,
    "class_weights": [1.0, 2.0, 4.0],
    "confidence": 0.9,
}
CALIBRATION = {
    "methods": ["as_trained", "temperature"],
    "l2": 0.01,
    "folds": 5,
    "decisions": ["grader"],
    "confidence": 0.9,
}


def _canal(shared: bool, n_studies: int = 200, seed: int = 0):
    """Per study a cause; each level's canal latent follows it (``shared``) or not, and its one
    feature sees the latent through heavy noise: only a head that reads the study's other levels
    grades better than the target alone, and only where the cause is shared. Training and
    validation studies dealt into three folds; a fifth are test studies."""
    rng = np.random.default_rng(seed)
    split = rng.choice(["train", "validation", "test"], size=n_studies, p=[0.6, 0.2, 0.2])
    fold = np.where(split == "test", -1, rng.integers(0, 3, size=n_studies))
    rows = []
    for s in range(n_studies):
        u = rng.standard_normal()
        for level in LEVELS:
            z = (0.9 * u if shared else rng.standard_normal()) + 0.45 * rng.standard_normal()
            rows.append(
                {
                    "study_id": 10**9 + s,
                    "condition": SPINAL,
                    "level": level,
                    "split": split[s],
                    "fold": int(fold[s]),
                    "label": int(np.digitize(z, THRESHOLDS)),
                    "f0": z + 1.2 * rng.standard_normal(),
                    "f1": rng.standard_normal(),
                }
            )
    return pd.DataFrame(rows)


def _priors(table: pd.DataFrame) -> pd.DataFrame:
    wide = table.pivot_table(index="study_id", columns="level", values="label", aggfunc="first")
    train = pd.DataFrame({"study_id": wide.index})
    for level in LEVELS:
        train[label_column(SPINAL, level)] = [SEVERITIES[int(v)] for v in wide[level]]
    for condition in CONDITIONS:
        for level in LEVELS:
            train[label_column(condition, level)] = train.get(
                label_column(condition, level), SEVERITIES[0]
            )
    splits = table.drop_duplicates("study_id")[["study_id", "split"]]
    return training_priors(train, splits)


def _fold_features(table: pd.DataFrame) -> pd.DataFrame:
    """The fold features a study fold leaves: per fold, every non-test row, the fold's own
    studies as ``FOLD_OUT`` (the 'fold models' here see the same two features)."""
    inside = table[table["split"] != "test"]
    parts = []
    for k in range(3):
        split = np.where(inside["fold"] == k, FOLD_OUT, inside["split"])
        parts.append(inside.assign(split=split, fold_left_out=k, variant="scratch"))
    return pd.concat(parts, ignore_index=True).drop(columns="fold")


def _shipped_out_of_fold(features: pd.DataFrame, priors: pd.DataFrame) -> pd.DataFrame:
    """The grader's out-of-fold rows: per fold a class-weighted logistic regression on the
    target's own features, fitted on the fold's training rows, calibrated on its validation rows
    and graded on the rows it left out (as ``fold_choice.shipped_out_of_fold`` hands them on)."""
    from sklearn.linear_model import LogisticRegression

    parts = []
    for _, fold in features.groupby("fold_left_out"):
        train = (fold["split"] == "train").to_numpy()
        x = fold[["f0", "f1"]].to_numpy()
        model = LogisticRegression(class_weight="balanced").fit(x[train], fold["label"][train])
        probs = model.predict_proba(x[~train])
        parts.append(
            fold_heads.head_rows(fold, np.flatnonzero(~train), probs, "scratch").assign(
                fold_left_out=fold["fold_left_out"].iloc[0], adapted=False
            )
        )
    plain, _ = calibrated_left_out(
        pd.concat(parts, ignore_index=True), "study", priors, CALIBRATION
    )
    return plain


def test_no_fold_head_fits_or_stops_on_a_study_it_grades(monkeypatch):
    features = _fold_features(_canal(shared=True))
    seen = []
    real = fold_heads.fit_joint

    def spy(tables, params):
        seen.append(tables["spinal"])
        return real(tables, {**params, "epochs": 3})

    monkeypatch.setattr(fold_heads, "fit_joint", spy)
    rows = fold_heads.joint_out_of_fold({"spinal": features}, PARAMS)
    assert len(seen) == 3
    for k, index in enumerate(seen):
        fitted_on = set(index.loc[index["split"].isin(["train", "validation"]), "study_id"])
        graded = set(
            rows.loc[(rows["fold_left_out"] == k) & (rows["split"] == FOLD_OUT), "study_id"]
        )
        assert graded and not fitted_on & graded, f"fold {k} fitted on a study it grades"
    out = rows[rows["split"] == FOLD_OUT]
    assert not out.duplicated(["study_id", "condition", "level"]).any()
    inside = features.drop_duplicates("study_id")
    assert set(out["study_id"]) == set(inside["study_id"])  # every non-test study, once


def test_joint_features_carry_the_fold_models_rows_and_split_back():
    table = _canal(shared=True)
    shipped = table.drop(columns="fold").assign(shipped_variant="scratch", img_mean=1.0)
    folds = _fold_features(table)
    both = with_fold_features(shipped, folds, "scratch")
    plain, fold_rows = split_fold_features(both)
    pd.testing.assert_frame_equal(plain, shipped.reset_index(drop=True))
    assert len(fold_rows) == len(folds) and "img_mean" not in fold_rows
    assert set(fold_rows["fold_left_out"]) == {0, 1, 2}
    alone, none = split_fold_features(with_fold_features(shipped, folds.iloc[:0], "scratch"))
    assert len(alone) == len(shipped) and none.empty
    with pytest.raises(ValueError, match="leaves out"):
        clash = folds.copy()
        left_out = (clash["fold_left_out"] == 0) & (clash["split"] == FOLD_OUT)
        clash.loc[left_out, "split"] = "train"  # the canal's fold 0 fits on what it leaves out
        other = folds.assign(condition="left_subarticular_stenosis")
        fold_heads.joint_out_of_fold({"spinal": clash, "subarticular": other}, PARAMS)


def test_a_fold_too_small_for_a_head_is_named():
    features = _fold_features(_canal(shared=True, n_studies=200))
    one = features["study_id"].isin(features["study_id"].unique()[:1])
    small = features[(features["split"] != "train") | one]
    assert fold_heads.too_small(features) is None
    assert "training studies" in fold_heads.too_small(small)
    with pytest.raises(ValueError, match="spinal's fold"):
        fold_heads.joint_out_of_fold({"spinal": small}, PARAMS)


def _site_fold(shared_out: bool):
    """One leave-site-out fold: the other sites' training and validation studies share a cause
    across a study's levels; the left-out site's studies share it (``shared_out``) or not. The
    fold's features and its grader's rows (a logistic regression on the target's own features,
    fitted on the fold's training rows), as the folds cells leave them."""
    from sklearn.linear_model import LogisticRegression

    inside = _canal(shared=True, seed=1)
    inside = inside[inside["split"] != "test"]
    out = _canal(shared=shared_out, n_studies=120, seed=2)
    out = out.assign(study_id=out["study_id"] + 10**6, split=SITE_OUT)
    table = pd.concat([inside, out], ignore_index=True).drop(columns="fold")
    features = table.assign(variant="scratch", fold_site="C")
    train = (table["split"] == "train").to_numpy()
    x = table[["f0", "f1"]].to_numpy()
    model = LogisticRegression(class_weight="balanced").fit(x[train], table["label"][train])
    graded = fold_heads.head_rows(
        table, np.flatnonzero(~train), model.predict_proba(x[~train]), "scratch"
    )
    rows = graded.assign(fold_site="C", adapted=False)
    adapted = rows[rows["split"] == SITE_OUT].assign(adapted=True)
    return features, pd.concat([rows, adapted], ignore_index=True), _priors(table)
