"""Header-only scan: statuses for bad files, slice order, the series table."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pydicom
import pytest

from disc_grade.dicom.geometry import patient_to_pixel, pixel_to_patient, plane_of, spatial_order
from disc_grade.dicom.headers import (
    BAD_PATH,
    EMPTY,
    NOT_DICOM,
    OK,
    TRUNCATED,
    UNREADABLE,
    read_header,
    scan_headers,
)
from disc_grade.dicom.series import build_series_table
from disc_grade.phantom.dicom_writer import PHANTOM_PATIENT_NAME


def _first_sagittal_t2(root: Path, specs) -> tuple[object, Path]:
    spec = next(s for s in specs if not s.missing_sagittal_t2)
    return spec, root / "train_images" / str(spec.study_id) / str(
        spec.series_ids["Sagittal T2/STIR"]
    )


def test_scan_reads_geometry_without_patient_fields(small_cohort):
    root, specs, _ = small_cohort
    files = sorted(
        str(p.relative_to(root / "train_images")) for p in (root / "train_images").rglob("*.dcm")
    )
    index = scan_headers(root / "train_images", files, workers=2, chunk_size=50)
    assert len(index) == len(files) and (index["status"] == OK).all()
    assert index["study_id"].dtype == "Int64" and (index["study_id"] > 2**31).any()
    assert index["slice_thickness"].isna().any(), "the missing SliceThickness quirk stays a null"
    text = index.astype(str).to_csv()
    assert PHANTOM_PATIENT_NAME.split("^")[0] not in text
    spec, folder = _first_sagittal_t2(root, specs)
    row = index[
        index["path"] == f"{spec.study_id}/{spec.series_ids['Sagittal T2/STIR']}/1.dcm"
    ].iloc[0]
    ds = pydicom.dcmread(folder / "1.dcm")
    assert row["rows"] == ds.Rows and row["pixel_spacing_row"] == pytest.approx(
        float(ds.PixelSpacing[0])
    )
    assert row["ipp_x"] == pytest.approx(float(ds.ImagePositionPatient[0]))


@pytest.mark.parametrize(
    "payload, status",
    [(b"", EMPTY), (b"not a dicom file at all" * 10, NOT_DICOM)],
)
def test_bad_files_get_a_status_not_an_exception(tmp_path, payload, status):
    (tmp_path / "1" / "2").mkdir(parents=True)
    (tmp_path / "1" / "2" / "3.dcm").write_bytes(payload)
    row = read_header(tmp_path, "1/2/3.dcm")
    assert row["status"] == status and row["error"]


def test_truncated_file_is_reported(small_cohort, tmp_path):
    root, specs, _ = small_cohort
    _, folder = _first_sagittal_t2(root, specs)
    data = (folder / "2.dcm").read_bytes()
    for cut, expected in ((len(data) // 2, TRUNCATED), (200, {UNREADABLE, NOT_DICOM})):
        (tmp_path / "1" / "2").mkdir(parents=True, exist_ok=True)
        (tmp_path / "1" / "2" / "3.dcm").write_bytes(data[:cut])
        status = read_header(tmp_path, "1/2/3.dcm")["status"]
        assert status in (expected if isinstance(expected, set) else {expected}), (cut, status)


def test_non_rsna_paths_are_flagged(small_cohort, tmp_path):
    root, specs, _ = small_cohort
    _, folder = _first_sagittal_t2(root, specs)
    (tmp_path / "abc").mkdir()
    shutil.copy(folder / "1.dcm", tmp_path / "abc" / "x.dcm")
    assert read_header(tmp_path, "abc/x.dcm")["status"] == BAD_PATH


def test_spatial_order_ignores_instance_numbers():
    orientation = (
        0,
        1,
        0,
        0,
        0,
        -1,
    )  # sagittal: rows x columns = normal towards patient right (-x)
    positions = np.array([[6.0, 0, 0], [-3.0, 0, 0], [0.0, 0, 0], [3.0, 0, 0]])
    order, along = spatial_order(positions, orientation)
    assert order.tolist() == [0, 3, 2, 1] and along.tolist() == [-6.0, -3.0, 0.0, 3.0]
    assert plane_of(orientation) == "sagittal" and plane_of((1, 0, 0, 0, 1, 0)) == "axial"
    with pytest.raises(ValueError, match="ImageOrientationPatient"):
        plane_of((1, 0, 0, 1, 0, 0))


def test_pixel_to_patient_follows_the_dicom_convention():
    p = pixel_to_patient(
        2, 3, position=(10, 20, 30), orientation=(0, 1, 0, 0, 0, -1), spacing=(0.5, 0.25)
    )
    assert p.tolist() == [10, 20 + 2 * 0.25, 30 - 3 * 0.5]


def test_series_order_undoes_reversed_instance_numbers(small_cohort):
    root, specs, config = small_cohort
    files = sorted(
        str(p.relative_to(root / "train_images")) for p in (root / "train_images").rglob("*.dcm")
    )
    series = build_series_table(scan_headers(root / "train_images", files))
    n = config.n_sagittal_slices
    assert sum(s.missing_sagittal_t1 for s in specs) == 1
    for spec in (s for s in specs if not s.missing_sagittal_t1):
        row = series[
            (series.study_id == spec.study_id)
            & (series.series_id == spec.series_ids["Sagittal T1"])
        ].iloc[0]
        assert row["plane"] == "sagittal" and row["n_slices"] == n
        # the phantom numbers slices from patient right; the normal of its orientation points right,
        # so spatial order runs left to right: descending instances, ascending where reversed
        expected = list(range(1, n + 1)) if spec.reversed_instances else list(range(n, 0, -1))
        assert list(row["instances_in_order"]) == expected
        assert np.all(np.diff(row["positions_in_order"]) > 0)
        assert row["slice_spacing"] == pytest.approx(spec.slice_spacing, abs=1e-3)
    axial = series[series["plane"] == "axial"]
    n_second = sum(s.second_axial_series_id is not None for s in specs)
    assert n_second >= 1 and len(axial) == len(specs) + n_second
    # stacks angled to each disc are one series, not a broken one
    assert (axial["status"] == "ok").all(), axial["status"].tolist()


def test_series_counts_files_that_failed(tmp_path):
    index = pd.DataFrame(
        {
            "study_id": [1, 1],
            "series_id": [2, 2],
            "instance_number": [1, 2],
            "path": ["a", "b"],
            "status": [OK, TRUNCATED],
            "series_description": ["S", None],
            "rows": [4, None],
            "columns": [4, None],
            "pixel_spacing_row": [1.0, None],
            "pixel_spacing_col": [1.0, None],
            "ipp_x": [0.0, None],
            "ipp_y": [0.0, None],
            "ipp_z": [0.0, None],
            **{f"iop_{i}": [v, None] for i, v in enumerate((0, 1, 0, 0, 0, -1))},
        }
    ).astype(
        {
            "study_id": "Int64",
            "series_id": "Int64",
            "instance_number": "Int64",
            "rows": "Int64",
            "columns": "Int64",
        }
    )
    series = build_series_table(index)
    assert series.loc[0, "n_slices"] == 1 and series.loc[0, "n_files_not_ok"] == 1


def test_patient_to_pixel_inverts_pixel_to_patient():
    t = np.deg2rad(12.0)  # an oblique sagittal slice: orthonormal row and column directions
    orientation = (0.0, np.cos(t), np.sin(t), 0.0, np.sin(t), -np.cos(t))
    point = pixel_to_patient(12.5, 40.0, (3.0, -50.0, 80.0), orientation, (0.7, 0.9))
    col, row = patient_to_pixel(point, (3.0, -50.0, 80.0), orientation, (0.7, 0.9))
    assert (col, row) == pytest.approx((12.5, 40.0), abs=0.05)
