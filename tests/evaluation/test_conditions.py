"""Every condition's figures, the 25-target test table, the RSNA score node and the report."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from disc_grade.evaluation.metrics import evaluate_split
from disc_grade.evaluation.render import markdown_report
from disc_grade.evaluation.report import condition_sections
from disc_grade.evaluation.report_build import score_conditions
from disc_grade.evaluation.report_limits import rsna_section
from disc_grade.evaluation.rsna_score import condition_prior, rsna_score
from disc_grade.evaluation.rsna_targets import labels_long, split_targets
from disc_grade.pipelines.condition.bundle import scored_predictions
from disc_grade.rsna import CONDITIONS, LEVELS, PROB_COLUMNS, SEVERITIES, SPINAL, label_column

NAMES = ("spinal", "foraminal", "subarticular")


def _train(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for study in range(n):
        row = {"study_id": 100 + study}
        for c in CONDITIONS:
            for lv in LEVELS:
                row[label_column(c, lv)] = SEVERITIES[int(rng.choice(3, p=[0.6, 0.25, 0.15]))]
        rows.append(row)
    return pd.DataFrame(rows)


def _labels(train, split_of) -> pd.DataFrame:
    labels = labels_long(train)
    return labels.assign(split=labels["study_id"].map(split_of))


def _priors(train, split_of) -> pd.DataFrame:
    rows = labels_long(train)
    rows = rows[rows["study_id"].map(split_of) == "train"]
    return pd.concat(
        [
            condition_prior(rows).assign(weighted=False),
            condition_prior(rows, True).assign(weighted=True),
        ]
    )


def _predictions(train, conditions, variant, split_of, confident):
    labels = labels_long(train)
    labels = labels[labels["condition"].isin(conditions)]
    p = np.full((len(labels), 3), 0.1)
    p[np.arange(len(labels)), labels["label"].to_numpy()] = 0.8 if confident else 0.005
    p = p / p.sum(axis=1, keepdims=True)
    table = labels.assign(
        variant=variant,
        split=labels["study_id"].map(split_of),
        predicted=p.argmax(1),
        point_x_pred=10.0,
        point_y_pred=10.0,
        point_x_true=11.0,
        point_y_true=10.0,
        mm_per_px=1.0,
        roi_centre_px=12.0,
        **dict(zip(PROB_COLUMNS, p.T, strict=True)),
    )
    return table


def test_test_table_fills_missing_targets_with_the_prior():
    train = _train(4)
    split_of = {100: "train", 101: "train", 102: "test", 103: "test"}
    spinal = _predictions(train, [SPINAL], "contrastive", split_of, True)
    fora = _predictions(train, CONDITIONS[1:3], "contrastive", split_of, True)
    sub = _predictions(train, CONDITIONS[3:], "contrastive", split_of, True)
    sub = sub.drop(sub.index[(sub["study_id"] == 103) & (sub["level"] == "l5_s1")])
    prior = condition_prior(labels_long(train).query("study_id < 102"))
    table = split_targets(_labels(train, split_of), [spinal, fora, sub], prior, "contrastive")
    assert len(table) == 2 * 25 and set(table["study_id"]) == {102, 103}
    missing = table[~table["graded"]]
    assert len(missing) == 2 and set(missing["condition"]) == set(CONDITIONS[3:])
    expected = prior.set_index("condition").loc[missing["condition"], PROB_COLUMNS].to_numpy()
    np.testing.assert_allclose(missing[PROB_COLUMNS].to_numpy(), expected)


def test_full_score_beats_the_prior_only_when_the_grader_knows():
    train = _train(12)
    split_of = {s: ("test" if s % 3 == 0 else "train") for s in train["study_id"]}
    splits = pd.DataFrame({"study_id": list(split_of), "split": list(split_of.values())})
    for confident, better in ((True, True), (False, False)):
        tables = [
            _predictions(train, [SPINAL], "scratch", split_of, confident),
            _predictions(train, CONDITIONS[1:3], "scratch", split_of, confident),
            _predictions(train, CONDITIONS[3:], "scratch", split_of, confident),
        ]
        scored = pd.concat(
            [scored_predictions(t, {"variant": "scratch"}, t.iloc[:0]) for t in tables]
        )
        out = score_conditions(train, splits, _priors(train, split_of), pd.DataFrame(), scored)
        assert set(out) == {"test"}, "no study of the held-out site: no such table"
        out = out["test"]
        assert set(out) == {"scratch", "chosen", "prior", "weighted_prior", "floor"}
        assert not out["floor"]["available"] and "latent" in out["floor"]["reason"]
        assert out["chosen"]["rsna_score"] == out["scratch"]["rsna_score"]
        for baseline in ("prior", "weighted_prior"):
            assert (out["scratch"]["rsna_score"] < out[baseline]["rsna_score"]) is better
        # under weights 1/2/4 the best constant leans towards Severe: it beats the plain prior
        assert out["weighted_prior"]["rsna_score"] < out["prior"]["rsna_score"]
        assert out["scratch"]["n_at_prior"] == 0 and out["scratch"]["n_studies"] == 4


def test_a_sided_conditions_metrics_per_side_and_no_spinal_term():
    train = _train(30, seed=1)
    split_of = {s: "test" for s in train["study_id"]}
    table = _predictions(train, CONDITIONS[1:3], "frozen", split_of, True)
    m = evaluate_split(table, n_resamples=50, seed=0, n_bins=5)
    assert m["balanced_accuracy"] == pytest.approx(1.0)
    for side in CONDITIONS[1:3]:
        assert m[f"balanced_accuracy_{side}"] == pytest.approx(1.0)
        assert m[f"balanced_accuracy_{side}_ci_low"] <= 1.0
    assert "any_severe_spinal_log_loss" not in m and m["log_loss"] > 0
    canal = evaluate_split(_predictions(train, [SPINAL], "frozen", split_of, True), 50, 0, 5)
    assert "any_severe_spinal_log_loss" in canal and "balanced_accuracy_" + SPINAL not in canal
    labels = _labels(train, split_of)
    text = markdown_report(
        [
            *condition_sections("foraminal", {"metrics": {"frozen": {"test": m}}}),
            *rsna_section(
                {
                    "test": {
                        "frozen": rsna_score(
                            split_targets(labels, [table], condition_prior(labels), "frozen")
                        )
                    }
                }
            ),
        ]
    )
    assert "Neural foraminal narrowing" in text and "left side" in text
    assert "any constant grader" in text and "RSNA score over all five conditions" in text


def test_family_ceiling_reads_its_own_conditions_from_the_truth():
    from disc_grade.evaluation.ceiling import ceilings, truth_of

    rng = np.random.default_rng(0)
    rows = []
    for condition in CONDITIONS:
        for study in range(40):
            for level in LEVELS:
                label = int(rng.choice(3, p=[0.6, 0.25, 0.15]))
                # the latent's probabilities: sharp for the foramina, uninformative otherwise
                p = (
                    np.eye(3)[label] * 0.9 + 0.1 / 3
                    if "foraminal" in condition
                    else np.full(3, 1 / 3)
                )
                rows.append(
                    dict(
                        study_id=study,
                        level=level,
                        condition=condition,
                        grade=label,
                        **dict(zip(PROB_COLUMNS, p, strict=True)),
                    )
                )
    truth = pd.DataFrame(rows)
    fora = truth_of(truth, CONDITIONS[1:3])
    predictions = fora.rename(columns={"grade": "label"}).assign(variant="scratch", split="test")
    out = ceilings(fora, predictions)
    assert out["test"] == pytest.approx(1.0) and out["cohort"] == pytest.approx(1.0)
    canal = truth_of(truth, [SPINAL])
    spinal_predictions = canal.rename(columns={"grade": "label"})
    spinal = ceilings(canal, spinal_predictions.assign(variant="scratch", split="test"))
    assert spinal["test"] < 0.6  # the canal's own (uninformative) truth, not the foramina's


def test_the_chosen_score_grades_each_condition_with_its_chosen_variant():
    train = _train(12)
    split_of = {s: ("test" if s % 3 == 0 else "train") for s in train["study_id"]}
    splits = pd.DataFrame({"study_id": list(split_of), "split": list(split_of.values())})
    groups = ([SPINAL], CONDITIONS[1:3], CONDITIONS[3:])
    scored = pd.concat(
        [
            scored_predictions(
                pd.concat(
                    [
                        _predictions(train, conditions, "scratch", split_of, False),
                        _predictions(train, conditions, "frozen", split_of, True),
                    ]
                ),
                {"variant": "frozen" if name == "foraminal" else "scratch"},
                pd.DataFrame(),  # no study folds
            )
            for name, conditions in zip(NAMES, groups, strict=True)
        ]
    )
    out = score_conditions(train, splits, _priors(train, split_of), pd.DataFrame(), scored)
    scratch, chosen = out["test"]["scratch"], out["test"]["chosen"]
    assert chosen["foraminal_log_loss"] < scratch["foraminal_log_loss"] - 0.5
    for kept_not in ("spinal_log_loss", "subarticular_log_loss"):
        assert chosen[kept_not] == scratch[kept_not]
