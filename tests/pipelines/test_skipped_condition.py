"""A condition without usable targets is skipped; the other conditions run to the end."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from disc_grade.alignment.targets import status
from disc_grade.conditions import spec_of
from disc_grade.pipelines.condition.skip import skipped_when_empty
from disc_grade.rsna import AXIAL_T2, SAGITTAL_T2
from tests.conftest import TINY_RUN_PARAMS, run_kedro
from tests.foreign import copy_without


def test_a_skippable_node_returns_its_empty_output_only_without_input():
    calls = []

    def node(targets, factor):
        calls.append(factor)
        return len(targets) * factor

    wrapped = skipped_when_empty(node, lambda: "empty")
    assert wrapped(pd.DataFrame({"a": [1, 2]}), 3) == 6 and calls == [3]
    assert wrapped(pd.DataFrame(), 3) == "empty" and calls == [3], "no run without rows"
    assert skipped_when_empty(node, lambda: "empty", arg=1)([1], []) == "empty"
    assert wrapped({"skipped": True, "reason": "x"}, 3) == "empty", "nor after a skipped step"
    import inspect

    assert list(inspect.signature(wrapped).parameters) == ["targets", "factor"]


def test_the_status_names_every_reason_with_its_count():
    table = pd.DataFrame(
        {
            "condition": ["left", "right"],
            "label_cells": [10, 10],
            "targets": [0, 0],
            "excluded_no_axial_t2_series": [8, 9],
            "excluded_blank_label": [2, 1],
        }
    )
    spec = spec_of("subarticular")
    state = status(spec, pd.DataFrame(), table)
    assert not state["trained"] and state["label_cells"] == 20
    assert state["excluded"] == {"no_axial_t2_series": 17, "blank_label": 3}
    assert state["reason"] == "no usable training target (no_axial_t2_series: 17, blank_label: 3)"
    assert status(spec, pd.DataFrame({"x": [1]}), table)["trained"]


@pytest.mark.e2e
def test_without_any_axial_series_the_recesses_are_skipped_and_the_rest_is_written(
    foreign_cohort, kedro_project, tmp_path
):
    raw = copy_without(foreign_cohort, tmp_path / "no_axial", AXIAL_T2)
    params = {**TINY_RUN_PARAMS, "raw_root": str(raw)}
    run_kedro(kedro_project, "train", params)
    out = kedro_project / "data"
    status = json.loads((out / "08_reporting/subarticular/status.json").read_text())
    assert not status["trained"] and status["excluded"] == {"no_axial_t2_series": 100}
    exclusions = pd.read_csv(out / "08_reporting/subarticular/alignment_exclusions.csv")
    assert len(exclusions) == 100, "every cell of the skipped family is listed with its reason"
    # the canal and the foramina ran to the end
    metrics = json.loads((out / "08_reporting/spinal/metrics.json").read_text())
    assert metrics["contrastive"]["test"]["n_discs"] > 0
    foraminal = json.loads((out / "08_reporting/foraminal/metrics.json").read_text())
    assert foraminal["contrastive"]["test"]["n_discs"] > 0
    assert json.loads((out / "08_reporting/subarticular/metrics.json").read_text())["skipped"]
    report = (out / "08_reporting/report.md").read_text()
    assert "Subarticular stenosis: skipped" in report and "no_axial_t2_series: 100" in report
    assert "## Neural foraminal narrowing\n" in report
    score = json.loads((out / "08_reporting/rsna_score.json").read_text())["test"]["chosen"]
    assert score["n_at_prior_by_condition"]["subarticular"] == score["n_at_prior"] > 0
    assert np.isfinite(score["rsna_score"])

    # inference: the skipped family's targets carry the prior and say why
    images = tmp_path / "test_images"
    shutil.copytree(raw / "train_images", images)
    run_kedro(kedro_project, "inference", {**params, "input_root": str(images)})
    grades = pd.read_csv(out / "07_model_output/inference/grades.csv")
    recesses = grades[grades["condition"].str.contains("subarticular")]
    assert not recesses["graded"].any()
    assert recesses["flag"].str.contains("skipped this condition").all()
    assert grades.loc[grades["condition"].str.contains("foraminal"), "graded"].any()


@pytest.mark.e2e
def test_without_any_sagittal_t2_the_canal_is_skipped_and_the_others_train(
    foreign_cohort, kedro_project, tmp_path
):
    raw = copy_without(foreign_cohort, tmp_path / "no_t2", SAGITTAL_T2)
    run_kedro(kedro_project, "train", {**TINY_RUN_PARAMS, "raw_root": str(raw)})
    out = kedro_project / "data"
    spinal = json.loads((out / "08_reporting/spinal/status.json").read_text())
    assert not spinal["trained"] and sum(spinal["excluded"].values()) == 50
    assert set(spinal["excluded"]) == {"no_sagittal_t2_series", "blank_label"}  # one blank cell
    for name in ("foraminal", "subarticular"):
        metrics = json.loads((out / f"08_reporting/{name}/metrics.json").read_text())
        assert metrics["contrastive"]["test"]["n_discs"] > 0, name
    report = (out / "08_reporting/report.md").read_text()
    assert "Spinal canal stenosis: skipped" in report


def test_a_run_where_no_condition_can_train_fails_naming_every_reason():
    from disc_grade.evaluation.report_build import require_a_trained_condition

    states = {
        "spinal": {"trained": False, "reason": "no usable training target (no_sagittal_t2: 5)"},
        "foraminal": {"trained": False, "reason": "no usable training target (blank_label: 10)"},
        "subarticular": {"trained": True},
    }

    def bundles(states):
        return {f"{name}__results": {"status": state} for name, state in states.items()}

    assert require_a_trained_condition(**bundles(states)) is None
    with pytest.raises(
        RuntimeError, match=r"spinal: .*no_sagittal_t2: 5.*foraminal: .*blank_label"
    ):
        require_a_trained_condition(
            **bundles({**states, "subarticular": dict(states["foraminal"])})
        )
