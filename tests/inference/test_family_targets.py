"""Placing the foramina and recesses of a study from its canal points, by geometry alone."""

from __future__ import annotations

import numpy as np
import pytest

from disc_grade.alignment.families import align_family, placement_offsets
from disc_grade.inference.family_targets import (
    NO_CANAL_POINT,
    canal_centres,
    place_targets,
)
from disc_grade.inference.studies import choose_family_series
from disc_grade.rsna import LEVELS

ALIGN = {"side_tolerance_mm": 1.0, "max_disc_distance_mm": 15.0}


@pytest.fixture(scope="module")
def cohort(small_cohort_tables):
    train, coords, descriptions, series, index, discs = small_cohort_tables
    return train, coords, descriptions, series, index, discs.assign(split="train", fold=0)


@pytest.mark.parametrize("family", ["foraminal", "subarticular"])
def test_placed_targets_land_on_the_labelled_slices_and_points(cohort, family):
    train, coords, descriptions, series, index, discs = cohort
    labelled, _ = align_family(train, coords, descriptions, series, index, discs, family, ALIGN)
    labelled = labelled.assign(split="train")
    placement = {**placement_offsets(labelled, discs, index), "max_disc_distance_mm": 15.0}
    points = discs[["study_id", "series_id", "level", "slice_rank", "x", "y"]].assign(status="ok")
    canal = canal_centres(points, series, index)
    chosen = choose_family_series(series, descriptions, family)
    study_ids = train["study_id"]
    placed, missing = place_targets(
        family, canal, chosen, series, index, placement, study_ids, LEVELS
    )
    assert len(placed) + len(missing) == len(study_ids) * 2 * len(LEVELS)
    without_canal = set(study_ids) - set(discs["study_id"])
    assert without_canal and set(missing["study_id"]) >= without_canal
    assert set(missing.loc[missing["study_id"].isin(without_canal), "reason"]) == {NO_CANAL_POINT}
    both = placed.merge(labelled, on=["study_id", "condition", "level"], suffixes=("", "_label"))
    assert len(both) >= 0.9 * len(placed) > 0
    # the learnt offset is one number for every study; slice positions differ by study, so a
    # foramen is sometimes read one slice further out or in than the reader marked it
    # (on this 7-slice cohort the outermost slice often holds a foramen that lies beyond it):
    # every placed foramen or recess is on the reader's slice or the next one, most on it
    off = (both["instance_number"] - both["instance_number_label"]).abs()
    assert (off <= 1).all() and (off == 0).mean() >= 0.6, off.value_counts()
    same = both[both["instance_number"] == both["instance_number_label"]]
    error = np.hypot(same["x"] - same["x_label"], same["y"] - same["y_label"])
    assert np.median(error) < 2.0, error.describe()


def test_a_study_without_the_familys_series_gets_a_reason_for_every_target(cohort):
    from disc_grade.inference.family_targets import NO_SERIES

    train, coords, descriptions, series, index, discs = cohort
    points = discs[["study_id", "series_id", "level", "slice_rank", "x", "y"]].assign(status="ok")
    canal = canal_centres(points, series, index)
    placement = {"lateral_mm": 15.0, "anterior_mm": 4.0, "max_disc_distance_mm": 15.0}
    study = int(discs["study_id"].iloc[0])
    for family, description in (("foraminal", "sagittal T1"), ("subarticular", "axial T2")):
        chosen = choose_family_series(series, descriptions, family)
        chosen = chosen[chosen["study_id"] != study]  # as if the study had no such series
        placed, missing = place_targets(
            family, canal, chosen, series, index, placement, [study], LEVELS
        )
        assert placed.empty and len(missing) == 2 * len(LEVELS)
        assert set(missing["reason"]) == {NO_SERIES.format(description=description)}


def test_a_figure_panel_shows_the_slice_holding_most_points():
    import pandas as pd

    from disc_grade.inference.figures import shown_slice

    rows = pd.DataFrame({"series_id": [7, 7, 7, 7, 7], "slice_rank": [1, 0, 1, 0, 1]})
    assert shown_slice(rows) == (7, 1)
    assert shown_slice(rows.iloc[:4]) == (7, 0)  # a tie: the lower rank
