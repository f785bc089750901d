"""A minimal reader of the few header elements the index needs, straight from the bytes.

It walks little-endian Part 10 data elements (explicit or implicit VR) with ``struct``,
skipping values it does not need (sequences of undefined length included), and stops at the
pixel data. It decodes nothing else, which makes it several times faster than building a full
pydicom ``Dataset``. Anything it does not understand (no preamble, big endian, a header longer
than the bytes given) returns ``None`` so the caller falls back to pydicom.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

PIXEL_DATA = 0x7FE00010
ITEM, ITEM_END, SEQUENCE_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
UNDEFINED = 0xFFFFFFFF
LONG_VRS = {
    b"OB",
    b"OW",
    b"OF",
    b"SQ",
    b"UT",
    b"UN",
    b"UC",
    b"UR",
    b"OD",
    b"OL",
    b"OV",
    b"SV",
    b"UV",
}
IMPLICIT_LE, EXPLICIT_LE, EXPLICIT_BE = (
    "1.2.840.10008.1.2",
    "1.2.840.10008.1.2.1",
    "1.2.840.10008.1.2.2",
)
DEFLATED_LE = "1.2.840.10008.1.2.1.99"  # the data set itself is deflated: pydicom inflates it

# tag -> (keyword, kind): "str", "int" (IS), "floats" (DS, backslash-separated), "us" (unsigned short)
WANTED = {
    0x00080016: ("SOPClassUID", "str"),
    0x00080060: ("Modality", "str"),
    0x00080070: ("Manufacturer", "str"),
    0x0008103E: ("SeriesDescription", "str"),
    0x00081090: ("ManufacturerModelName", "str"),
    0x00180050: ("SliceThickness", "floats"),
    0x0020000D: ("StudyInstanceUID", "str"),  # grouping only (dicom/intake.py), never written out
    0x0020000E: ("SeriesInstanceUID", "str"),
    0x00200013: ("InstanceNumber", "int"),
    0x00200032: ("ImagePositionPatient", "floats"),
    0x00200037: ("ImageOrientationPatient", "floats"),
    0x00280002: ("SamplesPerPixel", "us"),
    0x00280008: ("NumberOfFrames", "int"),
    0x00280010: ("Rows", "us"),
    0x00280011: ("Columns", "us"),
    0x00280030: ("PixelSpacing", "floats"),
    0x00280100: ("BitsAllocated", "us"),
    0x00280103: ("PixelRepresentation", "us"),
}
_U16, _U32, _TAG = struct.Struct("<H"), struct.Struct("<I"), struct.Struct("<HH")


class _Unsupported(Exception):
    pass


@dataclass(frozen=True)
class Malformed:
    """A text value that is not what its VR promises (an IS of '1A'): kept, never raised."""

    text: str


def _integer(text: str) -> int | Malformed | None:
    """An IS value as pydicom reads it: '7' and '7.0' are 7; anything else is malformed."""
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return Malformed(text)
    return int(number) if number.is_integer() else Malformed(text)


def _numbers(text: str) -> list[float] | Malformed:
    """A DS value (backslash-separated decimals) as floats, or malformed."""
    try:
        return [float(v) for v in text.split("\\") if v.strip()]
    except ValueError:
        return Malformed(text)


def decode_text(kind: str, raw: bytes):
    """A text element's value bytes decoded as the index reads them (``str``, ``int``, ``floats``)."""
    text = raw.decode("latin-1").strip("\x00 ")
    if kind == "str":
        return text
    if kind == "int":
        return _integer(text)
    return _numbers(text)


@dataclass
class RawHeader:
    """What the index needs from one file's header."""

    transfer_syntax: str | None
    values: dict[str, object]  # keyword -> decoded value, only for elements present
    pixel_offset: int  # where the pixel data element starts
    n_elements: int  # data elements seen after the file meta


def _decode(kind: str, raw: bytes):
    if kind == "us":
        return _U16.unpack_from(raw)[0] if len(raw) >= 2 else None
    return decode_text(kind, raw)


def _element(buf: bytes, pos: int, implicit: bool) -> tuple[int, int, int, bool]:
    """(tag, value length, value start, is a sequence) of the element at ``pos``."""
    if pos + 8 > len(buf):
        raise _Unsupported("header runs past the bytes given")
    group, elem = _TAG.unpack_from(buf, pos)
    tag = group << 16 | elem
    if implicit or group == 0xFFFE:
        return tag, _U32.unpack_from(buf, pos + 4)[0], pos + 8, False
    vr = buf[pos + 4 : pos + 6]
    if vr in LONG_VRS:
        if pos + 12 > len(buf):
            raise _Unsupported("header runs past the bytes given")
        return tag, _U32.unpack_from(buf, pos + 8)[0], pos + 12, vr == b"SQ"
    return tag, _U16.unpack_from(buf, pos + 6)[0], pos + 8, False


def _skip_undefined(buf: bytes, pos: int, implicit: bool) -> int:
    """Skip a sequence of undefined length starting at its first item; return the position after it."""
    while True:
        tag, length, start, _ = _element(buf, pos, True)
        if tag == SEQUENCE_END:
            return start
        if tag != ITEM:
            raise _Unsupported(f"unexpected tag {tag:08X} inside a sequence")
        if length != UNDEFINED:
            pos = start + length
            continue
        pos = start
        while True:  # an item of undefined length: walk its elements to the item delimiter
            tag, length, start, _ = _element(buf, pos, implicit)
            if tag == ITEM_END:
                pos = start
                break
            pos = _skip_undefined(buf, start, implicit) if length == UNDEFINED else start + length


def parse(buf: bytes) -> RawHeader | None:
    """Parse ``buf`` (the start of a file); None when pydicom should read it instead."""
    if len(buf) < 132 or buf[128:132] != b"DICM":
        return None
    try:
        pos, syntax = 132, None
        while True:  # file meta: always explicit VR little endian, group 0002
            if pos + 8 > len(buf) or _U16.unpack_from(buf, pos)[0] != 0x0002:
                break
            tag, length, start, _ = _element(buf, pos, False)
            if tag == 0x00020010:
                syntax = buf[start : start + length].decode("latin-1").strip("\x00 ")
            pos = start + length
        if syntax is None or syntax in (EXPLICIT_BE, DEFLATED_LE):
            return None
        implicit = syntax == IMPLICIT_LE
        values: dict[str, object] = {}
        n_elements = 0
        while True:
            if pos + 8 > len(buf):
                return None  # EOF before the pixel data: let pydicom decide what this is
            tag, length, start, _ = _element(buf, pos, implicit)
            if tag == PIXEL_DATA:
                return RawHeader(syntax, values, pos, n_elements)
            n_elements += 1
            if length == UNDEFINED:
                pos = _skip_undefined(buf, start, implicit)
                continue
            if start + length > len(buf):
                return None
            if tag in WANTED:
                keyword, kind = WANTED[tag]
                value = _decode(kind, buf[start : start + length])
                if value not in (None, "", []):  # an empty element reads as absent, as in pydicom
                    values[keyword] = value
            pos = start + length
    except _Unsupported:
        return None
