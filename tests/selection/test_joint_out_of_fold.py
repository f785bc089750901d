"""The joint head chosen out of fold: with the fold models' features in each condition's
``joint_features``, the joint stage fits the head once per study fold and keeps it for a
condition only where its left-out rows beat the condition's shipped out-of-fold rows, over every
training and validation study instead of the validation split alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from disc_grade.models.grading.fold_heads import head_rows
from disc_grade.models.training.fold_plan import FOLD_OUT, SITE_OUT
from disc_grade.rsna import SPINAL
from disc_grade.selection.heads import (
    joint_site_rows,
    site_grader_rows,
    with_fold_features,
)
from disc_grade.selection.joint import grade_jointly
from disc_grade.selection.out_of_fold import OUT_OF_FOLD
from tests.models.grading.test_fold_heads import _shipped_out_of_fold
from tests.models.grading.test_joint import PARAMS, RECESSES, _own_grader, _toy


def _fold_features(own: pd.DataFrame) -> pd.DataFrame:
    """Per study fold (three, dealt by study), every non-test row, the fold's studies left out;
    the 'fold models' see the same features as the shipped one."""
    inside = own[own["split"] != "test"]
    fold = inside["study_id"].to_numpy() % 3
    parts = [
        inside.assign(split=np.where(fold == k, FOLD_OUT, inside["split"]), fold_left_out=k)
        for k in range(3)
    ]
    return pd.concat(parts, ignore_index=True).assign(variant="scratch")


def _site_rows(own: pd.DataFrame, out: pd.DataFrame, method: str, priors) -> pd.DataFrame:
    """One leave-site-out fold ('C') of a condition as the folds cells and the condition
    hand it to the joint stage: the other sites' training and validation rows (``own``'s) and
    the left-out site's (``out``), with what the fold's grader (a logistic regression on the
    target's own features, calibrated as it ships) gives the left-out site."""
    from sklearn.linear_model import LogisticRegression

    table = pd.concat([own[own["split"] != "test"], out], ignore_index=True)
    train = (table["split"] == "train").to_numpy()
    x = table[["f0", "f1"]].to_numpy()
    model = LogisticRegression(class_weight="balanced").fit(x[train], table["label"][train])
    graded = head_rows(table, np.flatnonzero(~train), model.predict_proba(x[~train]), "scratch")
    rows = graded.assign(fold_site="C", adapted=False)
    predictions = pd.concat(
        [rows, rows[rows["split"] == SITE_OUT].assign(adapted=True)], ignore_index=True
    )
    grader = {"method": method, "decision": "grader"}
    given = site_grader_rows(predictions, "scratch", grader, priors, PARAMS["calibration"])
    return joint_site_rows(table.assign(variant="scratch", fold_site="C"), given, "scratch")


def _left_out_site(shared: bool) -> pd.DataFrame:
    """A site no fold trained on, its canal following the recesses' cause (``shared``) or not."""
    out, _ = _toy(shared, n_studies=150, seed=7)
    return out.assign(study_id=out["study_id"] + 10**6, split=SITE_OUT)


def _run(shared: bool, folds: bool = True, site_shared: bool | None = None):
    features, priors = _toy(shared, n_studies=360)  # each fold's head fits on 2/3 of them
    site = None if site_shared is None else _left_out_site(site_shared)
    inputs = {}
    for name, conditions in (("spinal", (SPINAL,)), ("subarticular", RECESSES)):
        own = features[features["condition"].isin(conditions)].reset_index(drop=True)
        scored, method = _own_grader(own, priors)
        shipped = own.assign(shipped_variant="scratch", shipped_method=method)
        fold_rows = _fold_features(own) if folds else _fold_features(own).iloc[:0]
        sites = None
        if site is not None:
            out = site[site["condition"].isin(conditions)].reset_index(drop=True)
            sites = _site_rows(own, out, method, priors)
        inputs[f"{name}__joint_features"] = with_fold_features(shipped, fold_rows, "scratch", sites)
        oof = _shipped_out_of_fold(fold_rows, priors) if folds else scored.iloc[:0]
        inputs[f"{name}__scored_predictions"] = pd.concat(
            [scored, oof.assign(variant=OUT_OF_FOLD)], ignore_index=True
        )
    inputs["foraminal__joint_features"] = pd.DataFrame(columns=["skipped"])
    inputs["foraminal__scored_predictions"] = inputs["spinal__scored_predictions"].iloc[:0]
    return features, grade_jointly(priors, PARAMS, **inputs)


@pytest.mark.parametrize("shared", [True, False])
def test_the_joint_head_is_chosen_on_every_non_test_study_out_of_fold(shared):
    features, (bundle, metrics, scored) = _run(shared)
    canal = metrics["conditions"]["spinal"]
    assert canal["decided_on"] == "out_of_fold"
    judged = canal["out_of_fold"]
    inside = features.loc[features["split"] != "test", "study_id"].nunique()
    assert judged["n_studies"] == inside and judged["folds"] == 3
    assert judged["n_studies"] > 2 * canal["calibration"]["n_validation"] / 5  # not the split
    assert canal["kept"] == judged["kept"] == shared, judged
    assert canal["left_out_sites"] is None and not canal["site_veto"]  # no site folds: in-site
    if shared:
        assert judged["head_log_loss"] < judged["shipped_log_loss"] - 0.05
    # the fold rows stay out of what the joint stage hands on
    assert not (scored["split"] == FOLD_OUT).any() or set(
        scored.loc[scored["split"] == FOLD_OUT, "variant"]
    ) == {OUT_OF_FOLD}


def test_without_fold_features_the_validation_split_decides():
    _, (_, metrics, _) = _run(shared=True, folds=False)
    canal = metrics["conditions"]["spinal"]
    assert canal["decided_on"] == "validation" and canal["out_of_fold"] is None
    assert canal["kept"] == canal["split_verdict"]


@pytest.mark.parametrize("site_shared", [True, False])
def test_a_joint_head_that_grades_a_new_site_worse_than_its_grader_is_not_kept(site_shared):
    """In-site the canal shares the recesses' cause and the joint head is kept out of fold; on a
    site the leave-site-out fold left out it shares it (kept) or not (the head reads the
    recesses for nothing there: dropped, and said)."""
    _, (bundle, metrics, _) = _run(shared=True, site_shared=site_shared)
    canal = metrics["conditions"]["spinal"]
    sites = canal["left_out_sites"]
    assert sites["sites"] == ["C"] and sites["n_studies"] == 150 and sites["folds"] == 1
    assert canal["out_of_fold"]["kept"]  # in-site the head wins
    if site_shared:
        assert sites["gain"] > 0 and canal["kept"] and not canal["site_veto"], sites
    else:
        assert sites["gain"] < 0 and not canal["kept"] and canal["site_veto"], sites
    assert bundle["conditions"]["spinal"]["kept"] == canal["kept"]
    # the recesses grade themselves from their own sharp feature; the site changes nothing there
    assert metrics["conditions"]["subarticular"]["left_out_sites"]["n_studies"] == 150
