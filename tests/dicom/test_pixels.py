"""Direct pixel reads agree with pydicom; the raw header walker agrees with pydicom's parse."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest

from disc_grade.dicom import rawheader
from disc_grade.dicom.header_values import pydicom_values
from disc_grade.dicom.pixels import read_pixels
from tests.conftest import bundled_pydicom_files


def _foreign_files():
    return [p for p in bundled_pydicom_files("*.dcm") if p.stat().st_size < 2**20]


def test_direct_read_equals_pixel_array_on_the_phantom(small_cohort):
    root, _, _ = small_cohort
    files = sorted((root / "train_images").rglob("*.dcm"))[:60]
    for path in files:
        assert np.array_equal(read_pixels(path), pydicom.dcmread(path).pixel_array), path


@pytest.mark.parametrize("path", _foreign_files(), ids=lambda p: p.name)
def test_raw_header_agrees_with_pydicom(path):
    buf = path.read_bytes()
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        expected = pydicom_values(ds)
    except Exception:  # noqa: BLE001 - pydicom cannot make sense of it: neither may we
        try:
            raw = rawheader.parse(buf)
        except ValueError:
            return
        assert raw is None, "pydicom cannot read it, so the walker must not claim to"
        return
    raw = rawheader.parse(buf)
    if raw is None:
        return  # handed to pydicom by design (no preamble, big endian, no pixel data, ...)
    assert raw.values == expected
    assert raw.transfer_syntax == str(ds.file_meta.TransferSyntaxUID)


def test_walker_itself_reads_every_phantom_header(small_cohort):
    # the fallback must not hide a walker that gives up: on plain little-endian files it answers
    root, _, _ = small_cohort
    for path in sorted((root / "train_images").rglob("*.dcm"))[:80]:
        raw = rawheader.parse(path.read_bytes())
        assert raw is not None, f"the walker handed {path} to pydicom"
        assert raw.values == pydicom_values(pydicom.dcmread(path, stop_before_pixels=True))


def test_walker_reads_most_little_endian_files_bundled_with_pydicom():
    handled, eligible = 0, 0
    for path in _foreign_files():
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
        except Exception:  # noqa: BLE001 - pydicom cannot read it: not a case for the walker
            continue
        buf = path.read_bytes()
        syntax = str(getattr(ds, "file_meta", {}).get("TransferSyntaxUID", ""))
        if (
            buf[128:132] != b"DICM"
            or syntax == rawheader.EXPLICIT_BE
            or b"\xe0\x7f\x10\x00" not in buf
        ):
            continue
        eligible += 1
        handled += rawheader.parse(buf) is not None
    assert eligible >= 20 and handled >= 0.8 * eligible, (handled, eligible)


@pytest.mark.parametrize("path", _foreign_files(), ids=lambda p: p.name)
def test_direct_pixels_agree_with_pydicom_where_both_decode(path):
    try:
        expected = pydicom.dcmread(path).pixel_array
    except Exception:  # noqa: BLE001 - not decodable at all
        return
    if expected.ndim != 2:
        with pytest.raises(ValueError, match="2-D"):
            read_pixels(path)
        return
    assert np.array_equal(read_pixels(path), expected)
