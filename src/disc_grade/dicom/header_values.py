"""The header values the index needs, read by the byte walker or, where it declines, by pydicom.

Both readers decode the same value bytes with the same rules (``rawheader.decode_text``), so a
file gives the same values whichever reads it; a value its VR does not allow (an IS of '1A')
comes back as ``rawheader.Malformed`` rather than an exception.
"""

from __future__ import annotations

from pathlib import Path

import pydicom
from pydicom.dataelem import RawDataElement

from disc_grade.dicom import rawheader
from disc_grade.dicom.rawheader import WANTED, Malformed

HEAD_BYTES = 16 * 1024  # nearly every header fits; longer ones are re-read from the file
HEADER_TAGS = [keyword for keyword, _ in WANTED.values()]


def pydicom_values(ds: pydicom.Dataset) -> dict[str, object]:
    """The ``rawheader.WANTED`` keywords of a pydicom dataset, decoded as the walker decodes them."""
    values: dict[str, object] = {}
    for keyword, kind in WANTED.values():
        if keyword not in ds:
            continue
        element = ds.get_item(keyword)
        if kind == "us":
            value = ds[keyword].value
            value = int(value) if value not in (None, "") else None
        elif isinstance(element, RawDataElement):
            value = rawheader.decode_text(kind, element.value or b"")
        else:  # already converted by pydicom: decode its text the same way
            text = element.value
            if isinstance(text, list | tuple | pydicom.multival.MultiValue):
                text = "\\".join(str(v) for v in text)
            value = rawheader.decode_text(
                kind, str(text if text is not None else "").encode("latin-1")
            )
        if value not in (None, "", []):  # an empty element reads as absent
            values[keyword] = value
    return values


def malformed_values(values: dict[str, object]) -> str | None:
    """A message naming every value that its VR does not allow, or None."""
    bad = [f"{k} '{v.text}'" for k, v in values.items() if isinstance(v, Malformed)]
    return ("malformed value(s): " + ", ".join(bad)) if bad else None


def parse_header(path: Path) -> tuple[str | None, dict[str, object], int, int, int]:
    """(transfer syntax, header values, pixel data offset, file size, data elements) of a file.

    The byte walker reads the first block (or the whole file for a long header); pydicom reads
    whatever the walker declines (no preamble, big endian, deflated, truncated, odd lengths).
    """
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(HEAD_BYTES)
        raw = rawheader.parse(head)
        if raw is None and size > HEAD_BYTES:
            raw = rawheader.parse(head + fh.read())
    if raw is not None:
        return raw.transfer_syntax, raw.values, raw.pixel_offset, size, raw.n_elements
    with open(path, "rb") as fh:
        ds = pydicom.dcmread(fh, stop_before_pixels=True, specific_tags=HEADER_TAGS)
        stop = fh.tell()
    meta = getattr(ds, "file_meta", None)
    syntax = (
        str(meta.TransferSyntaxUID) if meta is not None and "TransferSyntaxUID" in meta else None
    )
    return syntax, pydicom_values(ds), stop, size, len(ds)
