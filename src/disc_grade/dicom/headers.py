"""Header-only reading of DICOM files into flat, patient-free index rows.

Only the geometry and identity tags below are read, never the pixels and never a patient
field. Every file gets a row: a problem becomes a ``status`` and an ``error``, not an exception.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from pydicom.errors import InvalidDicomError
from tqdm.auto import tqdm

from disc_grade.dicom.header_values import malformed_values, parse_header

UNCOMPRESSED_SYNTAXES = {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2"}

# statuses, in the order a file is checked
OK = "ok"
EMPTY = "empty_file"
NOT_DICOM = "not_dicom"
UNREADABLE = "unreadable_header"
BAD_PATH = "path_not_study_series_instance"
NOT_IMAGE = "not_an_image"
NO_GEOMETRY = "missing_geometry"
TRUNCATED = "truncated_pixel_data"
UNUSABLE = "unusable_header_value"

INDEX_COLUMNS = {
    "study_id": "Int64",
    "series_id": "Int64",
    "instance_number": "Int64",
    "path": "string",
    "status": "string",
    "error": "string",
    "modality": "string",
    "series_description": "string",
    "manufacturer": "string",
    "scanner_model": "string",
    "rows": "Int64",
    "columns": "Int64",
    "pixel_spacing_row": "float64",
    "pixel_spacing_col": "float64",
    "ipp_x": "float64",
    "ipp_y": "float64",
    "ipp_z": "float64",
    **{f"iop_{i}": "float64" for i in range(6)},
    "slice_thickness": "float64",
    "frames": "Int64",
    "transfer_syntax": "string",
    "file_bytes": "Int64",
}


def _int_or_none(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def read_header(root: Path, relative: str) -> dict:
    """One ``dicom_index`` row for ``root / relative``; never raises for a bad file."""
    try:
        return _read_header(root, relative)
    except Exception as exc:  # noqa: BLE001 - a value no scanner should write, e.g. InstanceNumber '1A'
        return {
            **{column: None for column in INDEX_COLUMNS},
            "path": relative,
            "status": UNUSABLE,
            "error": f"{type(exc).__name__}: {exc}"[:300],
        }


def _read_header(root: Path, relative: str) -> dict:
    parts = Path(relative).parts
    row: dict = {column: None for column in INDEX_COLUMNS}
    row["path"] = relative
    if len(parts) == 3:
        row["study_id"], row["series_id"] = _int_or_none(parts[0]), _int_or_none(parts[1])
        row["instance_number"] = _int_or_none(Path(parts[2]).stem)
    path = root / relative
    try:
        if path.stat().st_size == 0:
            return {**row, "status": EMPTY, "error": "file is empty", "file_bytes": 0}
        syntax, values, stop, size, n_elements = parse_header(path)
    except InvalidDicomError as exc:
        return {**row, "status": NOT_DICOM, "error": str(exc)[:300]}
    except Exception as exc:  # noqa: BLE001 - any parse failure is reported, not raised
        return {**row, "status": UNREADABLE, "error": f"{type(exc).__name__}: {exc}"[:300]}
    row["file_bytes"] = size
    if n_elements == 0:
        return {
            **row,
            "status": UNREADABLE,
            "error": "no data elements after the file meta (truncated header?)",
        }
    row["transfer_syntax"] = syntax
    if bad := malformed_values(values):
        # pydicom reads the file too, but a value the index needs is not what its VR promises
        return {**row, "status": UNUSABLE, "error": bad}
    row["modality"] = values.get("Modality") or None
    row["series_description"] = values.get("SeriesDescription") or None
    row["manufacturer"] = values.get("Manufacturer") or None
    row["scanner_model"] = values.get("ManufacturerModelName") or None
    if row["instance_number"] is None and values.get("InstanceNumber") is not None:
        row["instance_number"] = int(values["InstanceNumber"])
    if row["study_id"] is None or row["series_id"] is None or row["instance_number"] is None:
        return {
            **row,
            "status": BAD_PATH,
            "error": "expected <study_id>/<series_id>/<instance_number>.dcm with numeric ids",
        }
    if values.get("Rows") is None or values.get("Columns") is None:
        return {
            **row,
            "status": NOT_IMAGE,
            "error": f"no image rows/columns (SOP class {values.get('SOPClassUID', '?')})",
        }
    row["rows"], row["columns"] = int(values["Rows"]), int(values["Columns"])
    row["frames"] = int(values.get("NumberOfFrames") or 1)
    spacing = values.get("PixelSpacing") or []
    position = values.get("ImagePositionPatient") or []
    orientation = values.get("ImageOrientationPatient") or []
    if len(spacing) != 2 or len(position) != 3 or len(orientation) != 6:
        return {
            **row,
            "status": NO_GEOMETRY,
            "error": "PixelSpacing/ImagePositionPatient/ImageOrientationPatient missing or of the wrong length",
        }
    row["pixel_spacing_row"], row["pixel_spacing_col"] = spacing
    row["ipp_x"], row["ipp_y"], row["ipp_z"] = position
    for i, value in enumerate(orientation):
        row[f"iop_{i}"] = value
    thickness = values.get("SliceThickness") or []
    row["slice_thickness"] = float(thickness[0]) if thickness else None
    if syntax in UNCOMPRESSED_SYNTAXES:
        expected = (
            row["rows"] * row["columns"] * row["frames"] * int(values.get("SamplesPerPixel") or 1)
        )
        expected *= int(values.get("BitsAllocated") or 16) // 8
        if size - stop < expected + 8:  # at least an 8-byte element header before the pixels
            return {
                **row,
                "status": TRUNCATED,
                "error": f"pixel data holds {max(size - stop, 0)} bytes, {expected} expected",
            }
    return {**row, "status": OK, "error": None}


def _read_chunk(args: tuple[str, Sequence[str]]) -> list[dict]:
    root, relatives = args
    with (
        warnings.catch_warnings()
    ):  # odd values get a status; pydicom's per-file warnings are noise
        warnings.simplefilter("ignore")
        return [read_header(Path(root), r) for r in relatives]


def scan_headers(
    root: Path, relatives: Iterable[str], workers: int = 1, chunk_size: int = 256
) -> pd.DataFrame:
    """Header-scan every file in parallel worker processes; one row per file, in input order."""
    relatives = list(relatives)
    chunks = [
        (str(root), relatives[i : i + chunk_size]) for i in range(0, len(relatives), chunk_size)
    ]
    rows: list[dict] = []
    progress = tqdm(total=len(relatives), desc="DICOM headers", unit="file", disable=None)
    if workers <= 1 or len(chunks) <= 1:
        for chunk in chunks:
            rows.extend(_read_chunk(chunk))
            progress.update(len(chunk[1]))
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for chunk, result in zip(chunks, pool.map(_read_chunk, chunks), strict=True):
                rows.extend(result)
                progress.update(len(chunk[1]))
    progress.close()
    return index_frame(rows)


def index_frame(rows: list[dict]) -> pd.DataFrame:
    """Rows as a ``dicom_index`` table with the contract's dtypes."""
    frame = pd.DataFrame(rows, columns=list(INDEX_COLUMNS))
    return frame.astype(INDEX_COLUMNS)


def orientation_of(frame: pd.DataFrame) -> np.ndarray:
    """[n, 6] ImageOrientationPatient columns as floats."""
    return frame[[f"iop_{i}" for i in range(6)]].to_numpy(dtype=float)


def position_of(frame: pd.DataFrame) -> np.ndarray:
    """[n, 3] ImagePositionPatient columns as floats."""
    return frame[["ipp_x", "ipp_y", "ipp_z"]].to_numpy(dtype=float)


def cpu_workers(requested: int | None) -> int:
    """``requested`` workers, or every core when it is 0 or None."""
    return int(requested) if requested else (os.cpu_count() or 1)
