"""A condition's sections of the report: its localiser, why a skipped one was skipped, the
ladder from the chosen grader's figures, every candidate validation scored."""

from __future__ import annotations

from disc_grade.evaluation.render import markdown_report
from disc_grade.evaluation.report import condition_sections

NAMES = ("spinal", "foraminal", "subarticular")


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


def test_the_ladder_reads_the_chosen_graders_figures():
    from disc_grade.evaluation.report_choices import ladder_section

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
        "feature_probe": {"feature_probe_balanced_accuracy": {"validation": 0.8, "test": 0.67}},
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
        ("as inference grades", "", "59.0%"),
        ("BatchNorm adapted", "", "57.0%"),
    ]
    assert len(lines) == len(expected), ladder
    for line, (step, val, test) in zip(lines, expected, strict=True):
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert step in cells[1] and cells[2] == (val or cells[2]) and cells[3] == (test or cells[3])
    assert "11.0%" not in ladder  # another variant's figures are not the chosen grader's


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
    }
    text = markdown_report([choices_section({"foraminal": results})])
    assert "as_trained 0.610; vector 0.470 | vector |" in text
    assert "scratch -0.470; frozen -0.580 | scratch |" in text
