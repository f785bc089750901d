"""The joint head grades a study's targets of every condition together: on a toy where a level's
conditions share a cause it beats the canal's own grader and is kept; where they do not share
one it is not kept, so what ships does not lose."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from disc_grade.evaluation.log_loss import weighted_log_loss
from disc_grade.pipelines.condition.bundle import scored_predictions
from disc_grade.pipelines.split.nodes import training_priors
from disc_grade.rsna import CONDITIONS, LEVELS, PROB_COLUMNS, SEVERITIES, SPINAL, label_column
from disc_grade.selection.calibrate import calibrate_on_validation
from disc_grade.selection.joint import grade_jointly

RECESSES = ("left_subarticular_stenosis", "right_subarticular_stenosis")
THRESHOLDS = (0.3, 1.1)
PARAMS = {
    "seed": 0,
    "width": 16,
    "dropout": 0.0,
    "lr": 0.02,
    "weight_decay": 0.0001,
    "epochs": 300,
    "patience": 40,
    "stop_fraction": 0.2,
    "class_weights": [1.0, 2.0, 4.0],
    "use": None,
    "confidence": 0.9,
    "calibration": {
        "methods": ["as_trained", "temperature"],
        "l2": 0.01,
        "folds": 5,
        "decisions": ["grader"],
        "confidence": 0.9,
    },
    "evaluation": {"n_resamples": 200, "seed": 0, "n_bins": 5},
    "novelty": {"n_components": 2, "false_rate": 0.1, "confidence": 0.95},
}


def _toy(shared: bool, n_studies: int = 240, seed: int = 0):
    """Per study and level a cause ``u``. The canal's grade follows ``u`` (shared) or its own
    cause; its one feature sees its latent through heavy noise. The recesses' grades follow ``u``
    and their feature sees ``u`` sharply: only a head that reads the recesses grades the canal
    well, and only where the cause is shared."""
    rng = np.random.default_rng(seed)
    split = rng.choice(["train", "validation", "test"], size=n_studies, p=[0.6, 0.2, 0.2])
    rows, train_csv = [], []
    for s in range(n_studies):
        study, csv = 10**9 + s, {"study_id": 10**9 + s}
        for level in LEVELS:
            u = rng.standard_normal()
            canal = u if shared else rng.standard_normal()
            latents = {SPINAL: canal + 0.3 * rng.standard_normal()}
            for recess in RECESSES:
                latents[recess] = u + 0.3 * rng.standard_normal()
            for condition, z in latents.items():
                label = int(np.digitize(z, THRESHOLDS))
                seen = z + (1.5 if condition == SPINAL else 0.2) * rng.standard_normal()
                rows.append(
                    {
                        "study_id": study,
                        "condition": condition,
                        "level": level,
                        "split": split[s],
                        "label": label,
                        "f0": seen,
                        "f1": rng.standard_normal(),
                    }
                )
                csv[label_column(condition, level)] = SEVERITIES[label]
        train_csv.append(csv)
    train = pd.DataFrame(train_csv)
    for condition in CONDITIONS:
        for level in LEVELS:
            train[label_column(condition, level)] = train.get(
                label_column(condition, level), SEVERITIES[0]
            )
    splits = pd.DataFrame({"study_id": 10**9 + np.arange(n_studies), "split": split})
    return pd.DataFrame(rows), training_priors(train, splits)


def _own_grader(features: pd.DataFrame, priors: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """A condition's own grader: a logistic regression on its own features, fitted on the
    training split, calibrated on validation; its held-out rows as ``scored_predictions``, and
    the calibration method validation kept."""
    from sklearn.linear_model import LogisticRegression

    train = features["split"] == "train"
    x = features[["f0", "f1"]].to_numpy()
    model = LogisticRegression(class_weight="balanced").fit(x[train], features["label"][train])
    probs = model.predict_proba(x)
    table = features[~train][["study_id", "condition", "level", "split", "label"]].assign(
        variant="scratch",
        **dict(zip(PROB_COLUMNS, probs[~train].T, strict=True)),
        predicted=probs[~train].argmax(1),
        point_x_pred=10.0,
        point_y_pred=10.0,
        point_x_true=10.0,
        point_y_true=10.0,
        mm_per_px=1.0,
    )
    fitted, calibrated = calibrate_on_validation(table, priors, PARAMS["calibration"])
    scored = scored_predictions(calibrated, {"variant": "scratch"}, calibrated.iloc[:0])
    return scored, fitted["method"]


def _run(shared: bool):
    features, priors = _toy(shared)
    inputs = {}
    for name, conditions in (("spinal", (SPINAL,)), ("subarticular", RECESSES)):
        own = features[features["condition"].isin(conditions)].reset_index(drop=True)
        scored, method = _own_grader(own, priors)
        inputs[f"{name}__joint_features"] = own.assign(
            shipped_variant="scratch", shipped_method=method
        )
        inputs[f"{name}__scored_predictions"] = scored
    inputs["foraminal__joint_features"] = pd.DataFrame(columns=["skipped"])
    inputs["foraminal__scored_predictions"] = inputs["spinal__scored_predictions"].iloc[:0]
    return grade_jointly(priors, PARAMS, **inputs)


def _test_loss(scored: pd.DataFrame, variant: str) -> float:
    rows = scored[(scored["variant"] == variant) & (scored["split"] == "test")]
    rows = rows[rows["condition"] == SPINAL]
    return weighted_log_loss(rows["label"].to_numpy(int), rows[PROB_COLUMNS].to_numpy(float))


@pytest.mark.parametrize("shared", [True, False])
def test_the_joint_head_grades_the_canal_only_where_a_level_shares_its_cause(shared):
    bundle, metrics, scored = _run(shared)
    canal = metrics["conditions"]["spinal"]
    alone = _test_loss(scored, "scratch")
    joint = _test_loss(scored, "joint")
    if shared:
        assert canal["kept"] and canal["paired"]["share_won"] >= 0.9
        assert joint < alone - 0.1, (joint, alone)
        assert _test_loss(scored, "chosen") == pytest.approx(joint)  # what ships is the head's
        assert "spinal" in [c for c, own in bundle["conditions"].items() if own["kept"]]
    else:
        assert not canal["kept"], canal["paired"]
        assert _test_loss(scored, "chosen") == pytest.approx(alone)  # what ships did not lose
    assert "foraminal" not in metrics["conditions"]  # a condition that trained nothing


def test_inference_regrades_a_kept_condition_as_evaluation_scored_it():
    from disc_grade.inference.joint import regrade

    bundle, _, scored = _run(shared=True)
    bundle["conditions"]["subarticular"]["kept"] = False
    features, _ = _toy(True)
    test = features[features["split"] == "test"].reset_index(drop=True)
    tables = {
        "spinal": test[test["condition"] == SPINAL],
        "subarticular": test[test["condition"] != SPINAL],
    }
    grades = {
        name: t[["study_id", "condition", "level"]].assign(
            graded=True,
            grade="",
            variant="scratch",
            p_normal_mild=0.5,
            p_moderate=0.3,
            p_severe=0.2,
        )
        for name, t in tables.items()
    }
    priors = _toy(True)[1]
    out = regrade(bundle, grades, tables, priors)
    assert (out["subarticular"][PROB_COLUMNS].to_numpy() == [0.5, 0.3, 0.2]).all()
    assert (out["subarticular"]["variant"] == "scratch").all()
    assert (out["spinal"]["variant"] == "scratch+joint").all()
    keys = ["study_id", "condition", "level"]
    joint = scored[(scored["variant"] == "joint") & (scored["split"] == "test")]
    both = out["spinal"].merge(joint, on=keys, suffixes=("", "_scored"), validate="1:1")
    assert len(both) == len(tables["spinal"])
    for column in PROB_COLUMNS:
        np.testing.assert_allclose(both[column], both[f"{column}_scored"], atol=1e-5)


def test_the_joint_stage_fits_only_the_head_it_ships(monkeypatch):
    from disc_grade.models.grading import context_grading

    fits, real = [], context_grading.fit_head

    def spy(*args):
        fits.append(args[4])  # attention
        return real(*args)

    monkeypatch.setattr(context_grading, "fit_head", spy)
    _, metrics, _ = _run(shared=True)
    assert fits == [True]  # no fold features here: one fit, the attention head, no baseline
    assert metrics["epochs"] >= 1
