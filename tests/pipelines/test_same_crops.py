"""A slice is cropped to the same pixels in training, evaluation and inference."""

from __future__ import annotations

import numpy as np

from disc_grade.datasets import DicomTree
from disc_grade.inference.grade_points import crop_points
from disc_grade.pipelines.condition.grade import crop_rois
from tests.conftest import align

ROI = {
    "size_px": 32,
    "extent_mm": 60.0,
    "n_channels": 3,
    "offset_mm": 5.0,
    "offset_seed": 0,
    "workers": 1,
}


def test_the_training_and_inference_paths_crop_a_slice_identically(
    small_cohort, small_cohort_tables
):
    images = DicomTree(small_cohort[0] / "train_images")
    for name in ("spinal", "subarticular"):
        targets, _ = align(small_cohort_tables, name)
        test = targets[targets["split"] == "test"].reset_index(drop=True)
        assert len(test) > 5
        trained, index, _ = crop_rois(test, small_cohort_tables.series, images, ROI)
        inferred, _, _ = crop_points(test, small_cohort_tables.series, images.root, ROI)
        np.testing.assert_array_equal(trained, inferred)  # test crops are centred, as inference's
        assert (index["point_x"] == (ROI["size_px"] - 1) / 2).all()
        # one target alone: its series scaled the same as when cropped with all the others
        alone, _, _ = crop_points(test.iloc[[3]], small_cohort_tables.series, images.root, ROI)
        np.testing.assert_array_equal(alone[0], inferred[3])


def test_training_and_validation_crops_carry_their_seeded_offset(small_cohort, small_cohort_tables):
    images = DicomTree(small_cohort[0] / "train_images")
    targets, _ = align(small_cohort_tables, "spinal")
    _, index, _ = crop_rois(targets, small_cohort_tables.series, images, ROI)
    centred = index["point_x"] == (ROI["size_px"] - 1) / 2
    assert not centred[index["split"] == "train"].all()
    assert centred[index["split"] == "test"].all()
