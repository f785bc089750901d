"""Every condition's alignment: every cell accounted for, sides and levels by geometry, the
study's one split, and a condition without a training target skipped."""

from __future__ import annotations

import pytest

from disc_grade.alignment.geometry_checks import LEVEL_MISMATCH, SIDE_MISMATCH
from disc_grade.alignment.targets import NOT_TRAINED, reconcile, status
from disc_grade.conditions import CONDITION_NAMES, spec_of
from tests.conftest import align


@pytest.mark.parametrize("name", CONDITION_NAMES)
def test_every_cell_is_a_target_or_an_exclusion(small_cohort_tables, name):
    tables = small_cohort_tables
    targets, exclusions = align(tables, name)
    table = reconcile(spec_of(name), tables.train, targets, exclusions)
    assert sorted(table["condition"]) == sorted(spec_of(name).conditions)
    assert table["balanced"].all() and (table["targets"] > 0).all()
    assert not targets.duplicated(["study_id", "condition", "level"]).any()
    # every target carries its study's one split, the same in every condition
    split = tables.splits.set_index("study_id")["split"]
    assert (targets["study_id"].map(split) == targets["split"]).all()


def test_a_point_on_the_wrong_side_is_excluded(small_cohort_tables):
    coords = small_cohort_tables.coords.copy()
    left = coords["condition"] == "Left Neural Foraminal Narrowing"
    right = coords["condition"] == "Right Neural Foraminal Narrowing"
    first = coords[left].iloc[0]
    mirror = coords[
        right & (coords["study_id"] == first.study_id) & (coords["level"] == first.level)
    ].iloc[0]
    coords.loc[first.name, "instance_number"] = mirror.instance_number  # a right-side slice
    targets, exclusions = align(small_cohort_tables, "foraminal", coords)
    hit = exclusions[exclusions["reason"] == SIDE_MISMATCH]
    assert len(hit) == 1 and hit["condition"].iloc[0] == "left_neural_foraminal_narrowing"
    assert "patient x" in hit["detail"].iloc[0]
    spec = spec_of("foraminal")
    assert reconcile(spec, small_cohort_tables.train, targets, exclusions)["balanced"].all()


def test_an_axial_point_on_another_levels_slice_is_excluded(small_cohort_tables):
    coords = small_cohort_tables.coords.copy()
    sub = coords[coords["condition"] == "Left Subarticular Stenosis"].set_index("level")
    # a study whose L1/L2 and L4/L5 lie in one axial series: mark L1/L2 on L4/L5's slice
    shared = [
        study
        for study, own in sub.groupby("study_id")
        if {"L1/L2", "L4/L5"} <= set(own.index)
        and own.loc["L1/L2", "series_id"] == own.loc["L4/L5", "series_id"]
    ]
    study = shared[0]
    own = sub[sub["study_id"] == study]
    coords.loc[
        (coords["condition"] == "Left Subarticular Stenosis")
        & (coords["study_id"] == study)
        & (coords["level"] == "L1/L2"),
        "instance_number",
    ] = own.loc["L4/L5", "instance_number"]
    targets, exclusions = align(small_cohort_tables, "subarticular", coords)
    hit = exclusions[exclusions["reason"] == LEVEL_MISMATCH]
    assert len(hit) == 1 and "l4_l5" in hit["detail"].iloc[0]
    spec = spec_of("subarticular")
    assert reconcile(spec, small_cohort_tables.train, targets, exclusions)["balanced"].all()


@pytest.mark.parametrize("name", CONDITION_NAMES)
def test_a_condition_without_training_targets_lists_them_as_not_trained(small_cohort_tables, name):
    tables = small_cohort_tables
    nobody_trains = tables.splits.assign(split="test")
    targets, exclusions = align(tables, name, splits=nobody_trains)
    spec = spec_of(name)
    table = reconcile(spec, tables.train, targets, exclusions)
    state = status(spec, targets, table)
    assert targets.empty and not state["trained"] and table["balanced"].all()
    assert state["excluded"][NOT_TRAINED] == (exclusions["reason"] == NOT_TRAINED).sum() > 0
    assert state["reason"].startswith("no usable training target (condition_not_trained:")


def test_unknown_condition_is_named():
    with pytest.raises(ValueError, match="condition must be one of"):
        spec_of("cervical")
