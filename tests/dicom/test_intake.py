"""Any DICOM folder taken in as the RSNA layout: studies and series by their UIDs, every other
file listed with its reason, the RSNA layout's own ids kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pydicom
import pytest
from pydicom.dataset import FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

from disc_grade.dicom.intake import intake, stable_id, survey
from disc_grade.phantom.dicom_writer import slice_dataset, to_bytes


def _slice(study: int, series: int, n: int):
    return slice_dataset(
        np.full((8, 8), n, dtype=np.uint16),
        study_id=study,
        series_id=series,
        instance_number=n,
        description="Sagittal T2/STIR",
        position=(float(n), 0.0, 0.0),
        orientation=(0, 1, 0, 0, 0, -1),
        pixel_spacing=1.0,
        slice_thickness=3.0,
        spacing_between=3.0,
        rle=False,
    )


def _write(path: Path, ds) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(to_bytes(ds))
    return path


def _dicomdir(path: Path) -> None:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.1.3.10"
    meta.MediaStorageSOPInstanceUID = pydicom.uid.generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = pydicom.Dataset()
    ds.file_meta = meta
    ds.FileSetID = "EXPORT"
    ds.save_as(path, enforce_file_format=True)


def _report(path: Path) -> None:
    """A DICOM file that is no image (no rows or columns), as an export's structured report."""
    ds = _slice(9, 9, 1)
    for keyword in ("PixelData", "Rows", "Columns"):
        del ds[keyword]
    ds.save_as(path, enforce_file_format=True)


@pytest.fixture
def export(tmp_path) -> Path:
    """A PACS-style export: UID-named nested folders, files without extension, two studies in
    one folder, a DICOMDIR, a text file, an empty file and a DICOM report."""
    root = tmp_path / "EXPORT"
    for study in (1, 2):
        for series in (10, 20):
            for n in (1, 2, 3):
                ds = _slice(study, series, n)
                _write(root / "PATIENT" / ds.SeriesInstanceUID / f"IM{ds.SOPInstanceUID[-6:]}", ds)
    _dicomdir(root / "DICOMDIR")
    (root / "README.TXT").write_text("exported by a viewer")
    (root / "PATIENT" / "EMPTY").write_bytes(b"")
    _report(root / "PATIENT" / "SR0001")
    return root


def test_a_pacs_export_is_grouped_by_uid_and_every_file_listed(export, tmp_path):
    files = intake([export], tmp_path / "staged")
    assert len(files) == len([p for p in export.rglob("*") if p.is_file()]) == 16
    images = files[files["status"] == "image"]
    assert len(images) == 12
    assert images["study_id"].nunique() == 2
    assert images.groupby("study_id")["series_id"].nunique().tolist() == [2, 2]
    assert sorted(
        images.groupby(["study_id", "series_id"])["instance_number"].apply(list).iloc[0]
    ) == [1, 2, 3]
    reasons = files.set_index("path")["reason"]
    assert "DICOMDIR" in reasons["DICOMDIR"]
    assert reasons["README.TXT"] == "not a DICOM file"
    assert reasons["PATIENT/EMPTY"] == "empty file"
    assert "not an image" in reasons["PATIENT/SR0001"]
    for _, row in images.iterrows():  # each staged link opens the file it came from
        staged = pydicom.dcmread(tmp_path / "staged" / row["staged"])
        assert staged.SOPInstanceUID == pydicom.dcmread(export / row["path"]).SOPInstanceUID


def test_a_study_id_is_a_stable_hash_of_its_uid_never_the_uid(export, tmp_path):
    files = intake([export], tmp_path / "staged")
    first = pydicom.dcmread(export / files[files["status"] == "image"]["path"].iloc[0])
    assert stable_id(first.StudyInstanceUID) in set(files["study_id"].dropna())
    assert not files.astype(str).apply(lambda c: c.str.contains(first.StudyInstanceUID)).any().any()


def test_the_rsna_layout_keeps_its_ids(tmp_path):
    root = tmp_path / "test_images"
    for n in (1, 2):
        _write(root / "123" / "456" / f"{n}.dcm", _slice(5, 6, n))
    ids = survey(root)[["study_id", "series_id", "instance_number"]].astype(int).values.tolist()
    assert ids == [[123, 456, 1], [123, 456, 2]]
    one_study = survey(root / "123")  # one study, named by its number
    assert one_study["study_id"].tolist() == [123, 123]


def test_repeated_instance_numbers_are_ranked_and_a_copy_is_listed(tmp_path):
    root = tmp_path / "in"
    for name in ("a", "b"):  # two files of one series both numbered 1
        ds = _slice(3, 4, 1)
        ds.SOPInstanceUID = pydicom.uid.generate_uid()
        _write(root / name, ds)
    files = intake([root], tmp_path / "staged")
    assert sorted(files["instance_number"].tolist()) == [1, 2]
    twice = intake([root, root], tmp_path / "staged2")
    assert (twice["status"] == "image").sum() == 2
    assert twice["reason"].str.contains("an earlier file").sum() == 2


def test_no_image_anywhere_is_one_clear_error(tmp_path):
    root = tmp_path / "notes"
    root.mkdir()
    (root / "a.txt").write_text("x")
    with pytest.raises(ValueError, match="no DICOM image under .*notes"):
        intake([root], tmp_path / "staged")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="no files under .*empty"):
        intake([empty], tmp_path / "staged")
    with pytest.raises(ValueError, match="does not exist"):
        intake([tmp_path / "nowhere"], tmp_path / "staged")


def test_intake_output_has_no_uid_column(export, tmp_path):
    files = intake([export], tmp_path / "staged")
    assert not any("uid" in c.lower() for c in files.columns)
    assert isinstance(files, pd.DataFrame)
