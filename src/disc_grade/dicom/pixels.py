"""Decode one slice's pixels: uncompressed little-endian frames straight from the bytes,
everything else (RLE, JPEG, JPEG-LS, JPEG 2000, big endian, ...) through pydicom's decoders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom

from disc_grade.dicom import rawheader
from disc_grade.dicom.rawheader import EXPLICIT_LE, IMPLICIT_LE


def _direct(buf: bytes) -> np.ndarray | None:
    raw = rawheader.parse(buf)
    if raw is None or raw.transfer_syntax not in (IMPLICIT_LE, EXPLICIT_LE):
        return None
    v = raw.values
    bits, samples, frames = (
        v.get("BitsAllocated"),
        v.get("SamplesPerPixel", 1),
        v.get("NumberOfFrames") or 1,
    )
    if (
        bits not in (8, 16)
        or samples != 1
        or frames != 1
        or v.get("Rows") is None
        or v.get("Columns") is None
    ):
        return None
    header = 8 if raw.transfer_syntax == IMPLICIT_LE else 12
    start = raw.pixel_offset + header
    rows, columns = int(v["Rows"]), int(v["Columns"])
    signed = v.get("PixelRepresentation", 0) == 1
    dtype = np.dtype(("<i" if signed else "<u") + str(bits // 8))
    needed = rows * columns * dtype.itemsize
    if len(buf) - start < needed:
        raise ValueError(
            f"pixel data holds {max(len(buf) - start, 0)} bytes, {needed} expected (truncated file)"
        )
    return np.frombuffer(buf, dtype=dtype, count=rows * columns, offset=start).reshape(
        rows, columns
    )


def read_pixels(path: Path) -> np.ndarray:
    """The single 2-D frame of ``path`` as stored values (no rescale, as ``pixel_array``).

    Raises:
        ValueError: the file is truncated or holds more than one 2-D frame.
    """
    buf = Path(path).read_bytes()
    pixels = _direct(buf)
    if pixels is None:
        pixels = pydicom.dcmread(path).pixel_array
    if pixels.ndim != 2:
        raise ValueError(f"expected one 2-D frame, got shape {pixels.shape}")
    return pixels
