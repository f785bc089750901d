"""Every condition's figures, the 25-target test table, the RSNA score node and the report."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from disc_grade.evaluation.metrics import evaluate_split
from disc_grade.evaluation.render import markdown_report
from disc_grade.evaluation.report import condition_sections
from disc_grade.evaluation.report_limits import rsna_section
from disc_grade.evaluation.rsna_score import condition_prior, rsna_score
from disc_grade.evaluation.rsna_targets import labels_long, split_targets
from disc_grade.pipelines.condition.bundle import scored_predictions
from disc_grade.pipelines.report.nodes import score_conditions
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
            [
                scored_predictions(t, t.iloc[:0], {"variant": "scratch"}, {}, t.iloc[:0])
                for t in tables
            ]
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


def test_a_conditions_section_states_its_localiser_and_a_skipped_one_why():
    localiser = {
        "test": {
            "n_targets": 10,
            "n_found": 9,
            "median_error_mm": 1.25,
            "p90_error_mm": 3.5,
            "within_5mm": 0.9,
            "same_slice": 0.8,
            "level_correct": 0.7,
        }
    }
    text = markdown_report(
        condition_sections("subarticular", {"metrics": {}, "localiser_metrics": localiser})
    )
    assert "9 of 10 targets found" in text and "90.0% within 5mm" in text
    assert "80.0% on the reader's slice" in text and "70.0% at the right level" in text
    status = {"trained": False, "label_cells": 100, "reason": "no usable training target (x: 100)"}
    skipped = markdown_report(condition_sections("subarticular", {"status": status}))
    assert "Subarticular stenosis: skipped" in skipped and "(x: 100)" in skipped


def test_the_ladder_and_the_context_table_read_the_chosen_graders_figures():
    from disc_grade.evaluation.report_choices import ladder_section
    from disc_grade.evaluation.report_heads import context_section

    side = "balanced_accuracy_left_neural_foraminal_narrowing"
    results = {
        "chosen_grader": {"variant": "scratch"},
        "ceiling": {"available": True, "validation": 0.91, "test": 0.84},
        "probe": {"probe_balanced_accuracy": 0.62, "random_init_probe_balanced_accuracy": 0.53},
        "metrics": {
            "scratch": {
                "validation": {"balanced_accuracy": 0.78, side: 0.71},
                "test": {"balanced_accuracy": 0.66, side: 0.61},
            },
            "contrastive": {
                "validation": {"balanced_accuracy": 0.11},
                "test": {"balanced_accuracy": 0.12},
            },
        },
        "end_to_end_metrics": {
            "scratch": {"test": {"balanced_accuracy": 0.58}},
            "chosen": {"test": {"balanced_accuracy": 0.59}},
            "chosen+adabn": {"test": {"balanced_accuracy": 0.57}},
        },
        "context_metrics": {
            "kept": False,
            "validation_score": {"grader": -0.5, "per_target": -0.52, "context": -0.51},
            "feature_probe_balanced_accuracy": {"validation": 0.8, "test": 0.67},
            "figures": {
                h: {"validation": {"balanced_accuracy": b}, "test": {"balanced_accuracy": b}}
                for h, b in (("grader", 0.78), ("per_target", 0.74), ("context", 0.75))
            },
        },
    }
    ladder = markdown_report([ladder_section({"foraminal": results})])
    lines = [line for line in ladder.splitlines() if line.startswith("| Neural foraminal")]
    expected = [
        ("Bayes ceiling", "91.0%", "84.0%"),
        ("pretrained encoder", "62.0%", ""),
        ("random encoder", "53.0%", ""),
        ("features: linear probe", "80.0%", "67.0%"),
        ("labelled point", "78.0%", "66.0%"),
        ("left neural foraminal", "71.0%", "61.0%"),
        ("right neural foraminal", "", ""),
        ("study-context head", "75.0%", "75.0%"),
        ("as inference grades", "", "59.0%"),
        ("BatchNorm adapted", "", "57.0%"),
    ]
    assert len(lines) == len(expected), ladder
    for line, (step, val, test) in zip(lines, expected, strict=True):
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert step in cells[1] and cells[2] == (val or cells[2]) and cells[3] == (test or cells[3])
    assert "11.0%" not in ladder  # another variant's figures are not the chosen grader's
    table = markdown_report([context_section({"foraminal": results})])
    assert "| study-context head | -0.510 |" in table and "| no |" in table


def test_the_choices_section_lists_every_candidate_validation_scored():
    from disc_grade.evaluation.report_choices import choices_section

    results = {
        "calibration": {
            "scratch": {
                "method": "vector",
                "cross_validated_log_loss": {"as_trained": 0.61, "vector": 0.47},
            }
        },
        "chosen_grader": {
            "variant": "scratch",
            "by": "log_loss",
            "overridden": False,
            "validation": {"scratch": {"score": -0.47}, "frozen": {"score": -0.58}},
        },
        "context_metrics": {"kept": False, "validation_score": {"grader": -0.47, "context": -0.49}},
    }
    text = markdown_report([choices_section({"foraminal": results})])
    assert "as_trained 0.610; vector 0.470 | vector |" in text
    assert "scratch -0.470; frozen -0.580 | scratch |" in text
    assert "grader -0.470; context -0.490 | per-target grader |" in text


def test_a_kept_context_head_is_what_the_chosen_score_grades_with():
    train = _train(12)
    split_of = {s: ("test" if s % 3 == 0 else "train") for s in train["study_id"]}
    splits = pd.DataFrame({"study_id": list(split_of), "split": list(split_of.values())})
    groups = ([SPINAL], CONDITIONS[1:3], CONDITIONS[3:])
    scored = pd.concat(
        [
            scored_predictions(
                _predictions(train, conditions, "scratch", split_of, False),
                _predictions(train, conditions, "context", split_of, True),
                {"variant": "scratch"},
                {"kept": name == "foraminal"},
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
