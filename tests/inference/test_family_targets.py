"""Placing the foramina and recesses of a study from its canal points, by geometry alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from disc_grade.alignment.families import align_family, placement_offsets
from disc_grade.alignment.labels import align_discs
from disc_grade.dicom.geometry import pixel_to_patient
from disc_grade.dicom.headers import scan_headers
from disc_grade.dicom.series import build_series_table
from disc_grade.inference.family_targets import (
    NO_CANAL_POINT,
    canal_centres,
    patient_to_pixel,
    place_targets,
)
from disc_grade.inference.studies import choose_family_series
from disc_grade.rsna import LEVELS

ALIGN = {"side_tolerance_mm": 1.0, "max_disc_distance_mm": 15.0}


@pytest.fixture(scope="module")
def cohort(small_cohort):
    root, specs, _ = small_cohort
    files = sorted(
        str(p.relative_to(root / "train_images")) for p in (root / "train_images").rglob("*.dcm")
    )
    index = scan_headers(root / "train_images", files)
    series = build_series_table(index)
    train = pd.read_csv(root / "train.csv")
    coords = pd.read_csv(root / "train_label_coordinates.csv")
    descriptions = pd.read_csv(root / "train_series_descriptions.csv")
    discs, _ = align_discs(train, coords, descriptions, series)
    discs = discs.assign(split="train", fold=0)
    return train, coords, descriptions, series, index, discs


def test_patient_to_pixel_inverts_pixel_to_patient():
    t = np.deg2rad(12.0)  # an oblique sagittal slice: orthonormal row and column directions
    orientation = (0.0, np.cos(t), np.sin(t), 0.0, np.sin(t), -np.cos(t))
    point = pixel_to_patient(12.5, 40.0, (3.0, -50.0, 80.0), orientation, (0.7, 0.9))
    col, row = patient_to_pixel(point, (3.0, -50.0, 80.0), orientation, (0.7, 0.9))
    assert (col, row) == pytest.approx((12.5, 40.0), abs=0.05)


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
    assert (both["instance_number"] == both["instance_number_label"]).mean() >= 0.75
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
