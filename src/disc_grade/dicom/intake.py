"""Any DICOM folder (a PACS or CD export, nested, any names, with or without a DICOMDIR) as the
RSNA layout the pipelines read: ``<study_id>/<series_id>/<instance>.dcm``.

Every file is surveyed from its header alone; images are grouped into studies and series by
their StudyInstanceUID and SeriesInstanceUID and staged as links (copies where links fail)
under a folder in the RSNA layout; every other file is listed with its reason. Folders already
in the RSNA layout (numeric ids) keep their ids, so grading them staged gives what grading them
in place gives. The UIDs themselves never leave this module: a study's id is its folder's
number or a stable hash of its UID.
"""

from __future__ import annotations

import hashlib
import shutil
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from pydicom.errors import InvalidDicomError

from disc_grade.datasets.dicom_tree import DicomTree
from disc_grade.dicom.header_values import parse_header

DICOMDIR_CLASS = "1.2.840.10008.1.3.10"
FILE_COLUMNS = ["input", "path", "status", "reason", "study_id", "series_id", "instance_number"]
STAGED = "staged"


@dataclass(frozen=True)
class Surveyed:
    """One file's header, as far as grouping needs it."""

    path: str
    status: str
    reason: str = ""
    study_uid: str = ""
    series_uid: str = ""
    instance: int | None = None


def survey_file(root: Path, relative: str) -> Surveyed:
    """What ``root / relative`` is: an image to stage, or another file with why it is not."""
    path = root / relative
    if Path(relative).name.upper() == "DICOMDIR":
        return Surveyed(
            relative, "skipped", "a DICOMDIR (an index of the export; files are read directly)"
        )
    try:
        if path.stat().st_size == 0:
            return Surveyed(relative, "skipped", "empty file")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, values, _, _, _ = parse_header(path)
    except InvalidDicomError:
        return Surveyed(relative, "skipped", "not a DICOM file")
    except Exception as exc:  # noqa: BLE001 - a broken file is listed, never fatal
        return Surveyed(relative, "skipped", f"unreadable header ({type(exc).__name__})")
    if values.get("SOPClassUID") == DICOMDIR_CLASS:
        return Surveyed(relative, "skipped", "a DICOMDIR (an index of the export)")
    if values.get("Rows") is None or values.get("Columns") is None:
        return Surveyed(relative, "skipped", "not an image (no rows/columns: a report or index)")
    number = values.get("InstanceNumber")
    return Surveyed(
        relative,
        "image",
        study_uid=str(values.get("StudyInstanceUID") or ""),
        series_uid=str(values.get("SeriesInstanceUID") or ""),
        instance=int(number) if isinstance(number, int) else None,
    )


def stable_id(text: str) -> int:
    """A positive 10-digit id from ``text`` (the same text gives the same id on any machine)."""
    return int(hashlib.sha256(text.encode()).hexdigest()[:12], 16) % 9_000_000_000 + 1_000_000_000


def _numeric(parts: Sequence[str]) -> bool:
    return all(p.isdigit() for p in parts[:-1]) and Path(parts[-1]).stem.isdigit()


def rsna_ids(root: Path, relatives: Sequence[str]) -> list[tuple[int, int, int]] | None:
    """The ids the paths give where every image is in the RSNA layout below ``root`` (a folder of
    studies, ``<study>/<series>/<n>.dcm``, or one study named by its number, ``<series>/<n>.dcm``);
    else None (the headers' UIDs group them)."""
    parts = [Path(r).parts for r in relatives]
    if parts and all(len(p) == 3 and _numeric(p) for p in parts):
        return [(int(p[0]), int(p[1]), int(Path(p[2]).stem)) for p in parts]
    if parts and root.name.isdigit() and all(len(p) == 2 and _numeric(p) for p in parts):
        return [(int(root.name), int(p[0]), int(Path(p[1]).stem)) for p in parts]
    return None


def uid_ids(images: list[Surveyed]) -> list[tuple[int, int, int]]:
    """Ids from the headers: study and series from their UIDs (the file's folder where a UID is
    missing), the instance its InstanceNumber where unique in the series, else its rank."""
    keys = []
    for s in images:
        folder = str(Path(s.path).parent)
        study = s.study_uid or f"folder:{folder}"
        keys.append(
            (stable_id(study), stable_id(study + "/" + (s.series_uid or f"folder:{folder}")))
        )
    table = pd.DataFrame(keys, columns=["study_id", "series_id"])
    table["instance"] = [s.instance for s in images]
    table["path"] = [s.path for s in images]
    for _, rows in table.groupby(["study_id", "series_id"]):
        numbers = rows["instance"]
        if numbers.isna().any() or numbers.duplicated().any():
            order = rows.sort_values(["instance", "path"], na_position="last").index
            table.loc[order, "instance"] = range(1, len(order) + 1)
    return [
        tuple(int(v) for v in row) for row in table[["study_id", "series_id", "instance"]].values
    ]


def survey(root: Path) -> pd.DataFrame:
    """Every file under ``root`` (one study, a folder of studies, any export) as a ``FILE_COLUMNS``
    row: images with the ids they are staged under, the others with their reason."""
    from tqdm.auto import tqdm

    surveyed = [
        survey_file(root, r)
        for r in tqdm(
            DicomTree(root).files(), desc=f"survey {root.name}", unit="file", disable=None
        )
    ]
    images = [s for s in surveyed if s.status == "image"]
    ids = rsna_ids(root, [s.path for s in images]) or uid_ids(images)
    by_path = {s.path: i for s, i in zip(images, ids, strict=True)}
    rows = []
    for s in surveyed:
        study, series, instance = by_path.get(s.path, (None, None, None))
        rows.append([str(root), s.path, s.status, s.reason, study, series, instance])
    return pd.DataFrame(rows, columns=FILE_COLUMNS).astype(
        {"study_id": "Int64", "series_id": "Int64", "instance_number": "Int64"}
    )


def stage(files: pd.DataFrame, staged: Path) -> pd.DataFrame:
    """Links to ``files``' images under ``staged`` in the RSNA layout; ``files`` with their
    ``staged`` relative path. The same study, series and instance from two places is kept once
    (the first) and the other listed as a duplicate.

    Raises:
        ValueError: there is no image to stage (names the inputs).
    """
    files = files.copy()
    files["staged"] = pd.Series(pd.NA, index=files.index, dtype="string")
    images = files["status"] == "image"
    if not images.any():
        inputs = ", ".join(sorted(files["input"].unique())) or "the input"
        raise ValueError(f"no DICOM image under {inputs} ({len(files)} files, none an image)")
    keys = files.loc[images, ["study_id", "series_id", "instance_number"]]
    duplicate = keys.duplicated()
    files.loc[duplicate[duplicate].index, ["status", "reason"]] = [
        "skipped",
        "the same study, series and instance as an earlier file",
    ]
    for i, row in files[files["status"] == "image"].iterrows():
        relative = f"{row.study_id}/{row.series_id}/{row.instance_number}.dcm"
        target = staged / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        source = (Path(row.input) / row.path).resolve()
        try:
            target.symlink_to(source)
        except OSError:
            shutil.copyfile(source, target)
        files.loc[i, "staged"] = relative
    return files


def intake(inputs: Sequence[Path], staged: Path) -> pd.DataFrame:
    """Every file under ``inputs`` surveyed and its images staged under ``staged`` (``stage``).

    Raises:
        ValueError: an input does not exist, or none holds a DICOM image.
    """
    tables = []
    for root in inputs:
        if not Path(root).exists():
            raise ValueError(f"'{root}' does not exist")
        if Path(root).is_file():
            raise ValueError(f"'{root}' is a file: give the folder that holds the study or studies")
        tables.append(survey(Path(root)))
    files = pd.concat(tables, ignore_index=True)
    if files.empty:
        raise ValueError(f"no files under {', '.join(str(r) for r in inputs)}: an empty folder?")
    return stage(files, staged)
