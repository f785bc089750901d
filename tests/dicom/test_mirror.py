"""Sides mirrored: a study mirrored left-to-right gives the same crops, hence the same grades,
with the sides swapped; the canal is left alone."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pydicom
import pytest
import torch

from disc_grade.dicom.extract import RoiSpec, extract_rois
from disc_grade.dicom.headers import scan_headers
from disc_grade.dicom.mirror import mirror_plan, mirror_sides
from disc_grade.dicom.series import build_series_table
from disc_grade.models.components.networks import DiscGrader, encoder_from_params
from disc_grade.models.grading.predict import predict
from tests.conftest import align

SWAP = {"left": "right", "right": "left"}


def _swapped(condition: str) -> str:
    side, rest = condition.split("_", 1)
    return f"{SWAP[side]}_{rest}"


def test_the_plan_turns_each_side_by_the_series_geometry():
    series = pd.DataFrame(
        {
            "study_id": [1, 1, 1],
            "series_id": [10, 20, 30],
            "plane": ["axial", "sagittal", "sagittal"],
            "normal_x": [0.0, -1.0, 1.0],
            "column_x": [1.0, 0.0, 0.0],
        }
    )
    index = pd.DataFrame(
        {
            "study_id": 1,
            "series_id": [10, 10, 20, 20, 30, 30, 20],
            "condition": [
                "left_subarticular_stenosis",
                "right_subarticular_stenosis",
                "left_neural_foraminal_narrowing",
                "right_neural_foraminal_narrowing",
                "left_neural_foraminal_narrowing",
                "right_neural_foraminal_narrowing",
                "spinal_canal_stenosis",
            ],
            "point_x": 10.0,
        }
    )
    plan = mirror_plan(index, series)
    assert plan["mirrored_columns"].tolist() == [False, True, False, False, False, False, False]
    assert plan["reversed_slices"].tolist() == [False, False, True, False, False, True, False]
    rois = np.random.default_rng(0).normal(size=(7, 3, 8, 8)).astype(np.float16)
    before = rois.copy()
    turned, out = mirror_sides(rois, index, series)
    assert np.array_equal(turned[1], before[1][..., ::-1]) and out["point_x"][1] == 7 - 10.0
    assert np.array_equal(turned[2], before[2][::-1]) and out["point_x"][2] == 10.0
    assert np.array_equal(turned[6], before[6]), "the canal is left as it is"
    with pytest.raises(ValueError, match="rerun ingestion"):
        mirror_plan(index, series.drop(columns=["normal_x"]))


def _mirror_study(source, target, study_id: int, series: pd.DataFrame) -> None:
    """Write study ``study_id`` mirrored left-to-right: axial pixels flipped across their
    columns, sagittal slices moved to the other side of the series' middle."""
    shutil.copytree(source / str(study_id), target / str(study_id))
    for row in series[series["study_id"] == study_id].itertuples():
        folder = target / str(study_id) / str(row.series_id)
        files = sorted(folder.glob("*.dcm"))
        middle = np.mean([float(pydicom.dcmread(f).ImagePositionPatient[0]) for f in files])
        for path in files:
            ds = pydicom.dcmread(path)
            if row.plane == "axial":
                pixels = ds.pixel_array[:, ::-1].copy()
                if ds.file_meta.TransferSyntaxUID.is_compressed:
                    ds.decompress()
                ds.PixelData = pixels.tobytes()
            else:
                position = [float(v) for v in ds.ImagePositionPatient]
                ds.ImagePositionPatient = [2 * middle - position[0], *position[1:]]
            ds.save_as(path)


def _tables(root):
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*.dcm"))
    return build_series_table(scan_headers(root, files))


@pytest.mark.parametrize("name", ["foraminal", "subarticular"])
def test_a_study_mirrored_left_to_right_gives_the_same_grades_with_the_sides_swapped(
    small_cohort, small_cohort_tables, tmp_path, name
):
    targets = align(small_cohort_tables, name)[0]
    study_id = int(targets["study_id"].value_counts().index[0])
    own = targets[targets["study_id"] == study_id].reset_index(drop=True)
    series = small_cohort_tables.series
    _mirror_study(small_cohort[0] / "train_images", tmp_path, study_id, series)
    mirrored_series = _tables(tmp_path)
    # the mirrored study's targets: each side's point becomes the other side's
    n_slices = own["series_id"].map(series.set_index("series_id")["n_slices"])
    axial = own["series_id"].map(series.set_index("series_id")["plane"]).eq("axial")
    mirrored = own.assign(
        condition=own["condition"].map(_swapped),
        x=np.where(axial, own["columns"] - 1 - own["x"], own["x"]),
        slice_rank=np.where(axial, own["slice_rank"], n_slices - 1 - own["slice_rank"]),
    )
    spec = RoiSpec(24, 40.0, 3, mirror_sides=True)
    original, index, _ = extract_rois(small_cohort[0] / "train_images", own, series, spec)
    turned, turned_index, _ = extract_rois(tmp_path, mirrored, mirrored_series, spec)
    keys = ["condition", "level"]
    by_key = {k: i for i, k in enumerate(zip(*[turned_index[c] for c in keys], strict=True))}
    pairs = [
        (i, by_key[(_swapped(c), level)])
        for i, (c, level) in enumerate(zip(*[index[c] for c in keys], strict=True))
    ]  # noqa: E501
    a = np.asarray(original[[p for p, _ in pairs]], dtype=np.float32)
    b = np.asarray(turned[[q for _, q in pairs]], dtype=np.float32)
    assert np.abs(a - b).max() < 2e-3, "a mirrored target's crop differs from its twin's"
    torch.manual_seed(0)
    grader = DiscGrader(encoder_from_params({"depth": 10}, in_channels=3)).eval()
    rows = np.arange(len(a))
    cpu = torch.device("cpu")
    assert np.allclose(
        predict(grader, a, rows, cpu)[0], predict(grader, b, rows, cpu)[0], atol=1e-3
    )
    # without mirroring the twins differ: the test can fail
    plain, _, _ = extract_rois(tmp_path, mirrored, mirrored_series, RoiSpec(24, 40.0, 3))
    c = np.asarray(plain[[q for _, q in pairs]], dtype=np.float32)
    assert np.abs(a - c).max() > 0.05
