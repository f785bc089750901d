"""Every file gets a status: pydicom's own test files and a fuzz set, no crash and no hang.

A file that pydicom reads is either ingested with the values pydicom gives, or carries a status
and an error saying why not.
"""

from __future__ import annotations

import signal
import struct
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRLittleEndian

from disc_grade.dicom.header_values import pydicom_values
from disc_grade.dicom.headers import INDEX_COLUMNS, OK, UNUSABLE, read_header
from tests.conftest import bundled_pydicom_files

STATUSES = {
    "ok",
    "empty_file",
    "not_dicom",
    "unreadable_header",
    "path_not_study_series_instance",
    "not_an_image",
    "missing_geometry",
    "truncated_pixel_data",
    "unusable_header_value",
}


@pytest.fixture
def deadline():
    """Fail a test that takes more than 30 s (a walker stuck in a loop) instead of hanging CI."""

    def expire(*_):
        raise TimeoutError("header read did not finish in 30 s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(30)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def _place(tmp_path: Path, payload: bytes, name: str = "3.dcm") -> dict:
    folder = tmp_path / "1" / "2"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(payload)
    row = read_header(tmp_path, f"1/2/{name}")
    assert set(row) == set(INDEX_COLUMNS)
    assert row["status"] in STATUSES, row
    assert row["status"] == OK or row["error"], f"status {row['status']} without a reason"
    return row


def _expected_geometry(ds: pydicom.Dataset) -> dict:
    values = pydicom_values(ds)
    return {
        "rows": values.get("Rows"),
        "columns": values.get("Columns"),
        "spacing": values.get("PixelSpacing"),
        "position": values.get("ImagePositionPatient"),
        "orientation": values.get("ImageOrientationPatient"),
    }


BUNDLED = [p for p in bundled_pydicom_files() if p.stat().st_size < 4 * 2**20]


def _complete_geometry(ds: pydicom.Dataset) -> bool:
    """Whether pydicom gives every geometry value the index needs, of the right length."""
    expected = _expected_geometry(ds)
    lengths = {"spacing": 2, "position": 3, "orientation": 6}
    return (
        expected["rows"] is not None
        and expected["columns"] is not None
        and all(len(expected[k] or []) == n for k, n in lengths.items())
    )


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_every_bundled_pydicom_file_is_ingested_alike_or_says_why(path, tmp_path, deadline):
    row = _place(tmp_path, path.read_bytes())
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True, force=False)
    except Exception:  # noqa: BLE001 - pydicom cannot read it: it must not be OK here either
        assert row["status"] != OK, "ingested a file pydicom cannot read"
        return
    if row["status"] != OK:
        return  # a status with its reason (checked in _place); how many are OK: the test below
    expected = _expected_geometry(ds)
    assert row["rows"] == expected["rows"] and row["columns"] == expected["columns"]
    assert [row["pixel_spacing_row"], row["pixel_spacing_col"]] == expected["spacing"]
    assert [row["ipp_x"], row["ipp_y"], row["ipp_z"]] == expected["position"]
    assert [row[f"iop_{i}"] for i in range(6)] == expected["orientation"]


def test_the_bundled_files_with_geometry_are_read_ok(tmp_path):
    """A floor, as the pixel walker has: of pydicom's files that pydicom reads with every
    geometry value the index needs, nearly all are ingested OK (pydicom 3.0.2 bundles 48 such
    files; 46 are OK today: MR_truncated.dcm's pixel data is short and badVR.dcm's NumberOfFrames
    reads '1A'). A reader that refused every file would pass the test above, not this one."""
    eligible, ok, refused = 0, 0, []
    for k, path in enumerate(BUNDLED):
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True, force=False)
        except Exception:  # noqa: BLE001 - not eligible
            continue
        if not _complete_geometry(ds):
            continue
        eligible += 1
        folder = tmp_path / str(k)
        row = _place(folder, path.read_bytes())
        if row["status"] == OK:
            ok += 1
        else:
            refused.append((path.name, row["status"], row["error"]))
    assert eligible >= 40, eligible
    assert ok >= 0.9 * eligible, refused


def _phantom_file(small_cohort) -> bytes:
    """An uncompressed phantom file (a truncated compressed one is caught when decoded)."""
    root, _, _ = small_cohort
    for path in sorted((root / "train_images").rglob("*.dcm")):
        if (
            pydicom.dcmread(path, stop_before_pixels=True).file_meta.TransferSyntaxUID
            == ExplicitVRLittleEndian
        ):
            return path.read_bytes()
    raise AssertionError("the phantom wrote no uncompressed file")


def test_truncated_at_every_offset_band_ends_with_a_status(small_cohort, tmp_path, deadline):
    data = _phantom_file(small_cohort)
    offsets = sorted({0, 1, 127, 128, 131, 132, 133, 140, 150} | set(range(0, len(data), 97)))
    for cut in offsets:
        row = _place(tmp_path, data[:cut])
        assert row["status"] != OK or cut >= len(data) - 8, (cut, row["status"])


def test_garbage_and_absurd_lengths_end_with_a_status(small_cohort, tmp_path, deadline):
    data = bytearray(_phantom_file(small_cohort))
    rng = np.random.default_rng(0)
    _place(tmp_path, bytes(rng.integers(0, 256, 5000, dtype=np.uint8)))
    _place(tmp_path, b"\x00" * 4096)
    _place(tmp_path, b"\x00" * 128 + b"DICM" + b"\xff" * 500)
    # every 2-byte or 4-byte length field after the preamble, set to an absurd value
    for pos in range(140, min(len(data), 1400), 2):
        for fmt, absurd in (("<H", 0xFFFE), ("<I", 0x7FFFFFF0)):
            width = struct.calcsize(fmt)
            broken = bytearray(data)
            broken[pos : pos + width] = struct.pack(fmt, absurd)
            _place(tmp_path, bytes(broken))


def test_deflated_file_is_read_by_pydicom_with_the_same_values(small_cohort, tmp_path, deadline):
    root, _, _ = small_cohort
    source = next((root / "train_images").rglob("*.dcm"))
    ds = pydicom.dcmread(source)
    ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    ds.save_as(tmp_path / "deflated.dcm", enforce_file_format=True)
    row = _place(tmp_path, (tmp_path / "deflated.dcm").read_bytes())
    assert row["status"] == OK and row["transfer_syntax"] == DeflatedExplicitVRLittleEndian
    assert [row["ipp_x"], row["ipp_y"], row["ipp_z"]] == [float(v) for v in ds.ImagePositionPatient]


def _with_instance_text(data: bytes, text: str) -> bytes:
    """The file with its InstanceNumber (explicit VR IS) replaced by ``text``, valid or not."""
    tag = b"\x20\x00\x13\x00IS"
    at = data.index(tag)
    length = struct.unpack_from("<H", data, at + 6)[0]
    value = text.encode() + (b" " if len(text) % 2 else b"")
    return data[: at + 6] + struct.pack("<H", len(value)) + value + data[at + 8 + length :]


@pytest.mark.parametrize("instance_text, status", [("1.0", OK), ("7", OK), ("1A", UNUSABLE)])
def test_odd_instance_numbers_are_read_as_pydicom_reads_them(
    small_cohort, tmp_path, instance_text, status
):
    data = _with_instance_text(_phantom_file(small_cohort), instance_text)
    row = _place(tmp_path, data)
    assert row["status"] == status, row
    if status == UNUSABLE:
        assert "InstanceNumber '1A'" in row["error"]
    else:  # pydicom reads the same number
        (tmp_path / "y.dcm").write_bytes(data)
        assert int(pydicom.dcmread(tmp_path / "y.dcm").InstanceNumber) == int(float(instance_text))
