"""Foraminal and subarticular alignment: every cell accounted for, sides and levels by geometry."""

from __future__ import annotations

import pytest

from disc_grade.alignment.families import (
    LEVEL_MISMATCH,
    SIDE_MISMATCH,
    align_family,
    family_conditions,
    reconcile,
)

PARAMS = {"side_tolerance_mm": 1.0, "max_disc_distance_mm": 15.0}


@pytest.fixture(scope="module")
def cohort(small_cohort_tables):
    train, coords, descriptions, series, index, discs = small_cohort_tables
    ids = sorted(discs["study_id"].unique())
    split = {s: ("test" if i % 3 == 0 else "train") for i, s in enumerate(ids)}
    return (
        train,
        coords,
        descriptions,
        series,
        index,
        discs.assign(split=discs["study_id"].map(split), fold=0),
    )


def _align(cohort, family, coords=None):
    train, original, descriptions, series, index, discs = cohort
    return align_family(
        train,
        original if coords is None else coords,
        descriptions,
        series,
        index,
        discs,
        family,
        PARAMS,
    )


@pytest.mark.parametrize("family", ["foraminal", "subarticular"])
def test_every_cell_is_a_target_or_an_exclusion(cohort, family):
    targets, exclusions = _align(cohort, family)
    table = reconcile(cohort[0], targets, exclusions)
    assert sorted(table["condition"]) == sorted(family_conditions(family))
    assert table["balanced"].all() and (table["targets"] > 0).all()
    assert not targets.duplicated(["study_id", "condition", "level"]).any()
    # the canal's split, study by study; studies without canal discs train only
    split = cohort[5].drop_duplicates("study_id").set_index("study_id")["split"]
    own = targets["study_id"].map(split)
    assert (own.isna() | (own == targets["split"])).all()
    assert (targets.loc[own.isna(), "split"] == "train").all()


def test_a_point_on_the_wrong_side_is_excluded(cohort):
    coords = cohort[1].copy()
    left = coords["condition"] == "Left Neural Foraminal Narrowing"
    right = coords["condition"] == "Right Neural Foraminal Narrowing"
    first = coords[left].iloc[0]
    mirror = coords[
        right & (coords["study_id"] == first.study_id) & (coords["level"] == first.level)
    ].iloc[0]
    coords.loc[first.name, "instance_number"] = mirror.instance_number  # a right-side slice
    targets, exclusions = _align(cohort, "foraminal", coords)
    hit = exclusions[exclusions["reason"] == SIDE_MISMATCH]
    assert len(hit) == 1 and hit["condition"].iloc[0] == "left_neural_foraminal_narrowing"
    assert "patient x" in hit["detail"].iloc[0]
    assert reconcile(cohort[0], targets, exclusions)["balanced"].all()


def test_an_axial_point_on_another_levels_slice_is_excluded(cohort):
    coords = cohort[1].copy()
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
    targets, exclusions = _align(cohort, "subarticular", coords)
    hit = exclusions[exclusions["reason"] == LEVEL_MISMATCH]
    assert len(hit) == 1 and "l4_l5" in hit["detail"].iloc[0]
    assert reconcile(cohort[0], targets, exclusions)["balanced"].all()


def test_unknown_family_is_named():
    with pytest.raises(ValueError, match="family must be"):
        family_conditions("spinal")
