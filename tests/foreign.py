"""A cohort that carries nothing only the phantom writes: the real-data path's test input.

``make_foreign_cohort`` rewrites a phantom cohort the way another generator (or a scanner and
an anonymiser) would have written it:

- no marker file, no sidecar (truth, sites, split suggestion), no phantom preview;
- study and series ids drawn afresh (about half above 2**31), instance numbers of some series
  offset as scanners that number a whole study do;
- real scanner makers and models, or none at all (anonymised), and scanner-style series
  descriptions in the headers (``t2_tse_sag``, ``AX T2 FSE``) while the CSV keeps the RSNA names;
- other image sizes: every series resampled by its own factor (pixel spacing, positions and
  label coordinates follow) and padded to a non-square matrix, on the left for some series
  (the first pixel moves, so a geometry shortcut shows);
- a coronal localiser series that the series table does not list, as real exports carry;
- a patient name, birth date and id in every file (:data:`PATIENT`): no output may contain them.

The label coordinates are moved with the pixels, so the labels still point where the reader
pointed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pydicom
from pydicom.uid import ExplicitVRLittleEndian, RLELossless, generate_uid
from scipy import ndimage

from disc_grade.rsna import (
    AXIAL_T2,
    COORDINATES_CSV,
    IMAGES_DIR,
    SAGITTAL_T1,
    SAGITTAL_T2,
    SERIES_DESCRIPTIONS_CSV,
    TRAIN_CSV,
)

# what a hospital's files carry and no output may show (tests search every written file)
PATIENT = {
    "PatientName": "QUIRKE^AUGUSTA^M",
    "PatientBirthDate": "19480229",
    "PatientID": "PID7730912",
}
SCANNERS = (
    ("SIEMENS", "Avanto"),
    ("GE MEDICAL SYSTEMS", "SIGNA HDxt"),
    ("Philips Medical Systems", "Ingenia"),
    (None, None),  # anonymised: neither maker nor model
)
HEADER_DESCRIPTIONS = {
    SAGITTAL_T2: ("t2_tse_sag", "SAG T2 FRFSE", "Sag STIR"),
    SAGITTAL_T1: ("t1_tse_sag", "SAG T1 FSE", "Sag T1"),
    AXIAL_T2: ("t2_tse_tra", "AX T2 FSE", "Ax T2 fse"),
}
_ID_LOW, _ID_HIGH = 1_000_000, 4_290_000_000


def _geometry(zoom: float, pad_left: int, pad_right: int, pad_bottom: int):
    """How a pixel (x, y) of the source maps into the rewritten image."""

    def move(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (x + 0.5) * zoom - 0.5 + pad_left, (y + 0.5) * zoom - 0.5

    return move


def _rewrite_pixels(ds: pydicom.Dataset, zoom: float, pads: tuple[int, int, int]) -> None:
    pixels = ds.pixel_array.astype(np.float32)
    resized = ndimage.zoom(pixels, zoom, order=1, grid_mode=True, mode="nearest")
    left, right, bottom = pads
    background = float(np.percentile(pixels, 5))
    out = np.pad(resized, ((0, bottom), (left, right)), constant_values=background)
    out = np.clip(np.round(out), 0, 2 ** int(ds.BitsStored) - 1).astype(np.uint16)
    compressed = ds.file_meta.TransferSyntaxUID == RLELossless
    spacing = [float(v) for v in ds.PixelSpacing]
    row_dir = np.asarray(ds.ImageOrientationPatient[:3], dtype=float)
    col_dir = np.asarray(ds.ImageOrientationPatient[3:], dtype=float)
    position = np.asarray(ds.ImagePositionPatient, dtype=float)
    new_spacing = [s / zoom for s in spacing]  # [row spacing (along columns), column spacing]
    # the new first pixel's centre: half a new pixel in from the old image's corner, then left pad
    corner = position - 0.5 * spacing[1] * row_dir - 0.5 * spacing[0] * col_dir
    first = corner + 0.5 * new_spacing[1] * row_dir + 0.5 * new_spacing[0] * col_dir
    first = first - left * new_spacing[1] * row_dir
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.set_pixel_data(out, photometric_interpretation="MONOCHROME2", bits_stored=int(ds.BitsStored))
    ds.PixelSpacing = [round(v, 6) for v in new_spacing]
    ds.ImagePositionPatient = [round(float(v), 4) for v in first]
    if compressed:
        ds.compress(RLELossless, generate_instance_uid=False)


def _localiser(template: pydicom.Dataset, series_id: int, study_uid: str) -> list[pydicom.Dataset]:
    """Three coronal scout slices of another series, absent from the series CSV."""
    out = []
    for k in range(3):
        ds = template.copy()
        ds.file_meta = template.file_meta.copy()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.SeriesDescription = "3-plane loc"
        ds.SeriesInstanceUID = generate_uid(entropy_srcs=[study_uid, "loc"])
        ds.SOPInstanceUID = generate_uid(entropy_srcs=[study_uid, "loc", str(k)])
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.InstanceNumber = k + 1
        ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 0.0, -1.0]
        ds.ImagePositionPatient = [-120.0, -10.0 + 8.0 * k, 120.0]
        ds.set_pixel_data(
            np.full((96, 96), 300 + 50 * k, dtype=np.uint16),
            photometric_interpretation="MONOCHROME2",
            bits_stored=12,
        )
        ds.PixelSpacing = [2.5, 2.5]
        ds.SeriesNumber = series_id % 1000
        out.append(ds)
    return out


def make_foreign_cohort(source: Path, target: Path, seed: int = 11) -> dict[str, dict]:
    """Write ``source`` (a phantom cohort) to ``target`` as a foreign cohort; return the id maps.

    Returns:
        ``{"study": old -> new, "series": old -> new}``.
    """
    rng = np.random.default_rng(seed)
    train = pd.read_csv(source / TRAIN_CSV)
    coords = pd.read_csv(source / COORDINATES_CSV)
    descriptions = pd.read_csv(source / SERIES_DESCRIPTIONS_CSV)
    studies = {int(s): int(rng.integers(_ID_LOW, _ID_HIGH)) for s in train["study_id"]}
    series_ids = {int(s): int(rng.integers(_ID_LOW, _ID_HIGH)) for s in descriptions["series_id"]}
    kind = dict(zip(descriptions["series_id"], descriptions["series_description"], strict=True))
    moves, offsets = {}, {}
    target.mkdir(parents=True)
    images = source / IMAGES_DIR
    for s, old_study in enumerate(sorted(studies)):
        maker, model = SCANNERS[s % len(SCANNERS)]
        study_uid = generate_uid(entropy_srcs=["foreign", str(studies[old_study])])
        template = None
        for folder in sorted((images / str(old_study)).iterdir()):
            old_series = int(folder.name)
            zoom = float(rng.choice([1.25, 1.5, 2.0]))
            pads = (int(rng.choice([0, 0, 12])), int(rng.choice([8, 24])), int(rng.choice([0, 16])))
            offset = int(rng.choice([0, 0, 100])) if kind[old_series] == AXIAL_T2 else 0
            moves[old_series], offsets[old_series] = (_geometry(zoom, pads[0], *pads[1:]), offset)
            header_text = HEADER_DESCRIPTIONS[kind[old_series]][s % 3]
            new_series = series_ids[old_series]
            out_dir = target / IMAGES_DIR / str(studies[old_study]) / str(new_series)
            out_dir.mkdir(parents=True)
            for path in sorted(folder.glob("*.dcm")):
                ds = pydicom.dcmread(path)
                _rewrite_pixels(ds, zoom, pads)
                for tag in ("Manufacturer", "ManufacturerModelName"):
                    if tag in ds:
                        delattr(ds, tag)
                if maker:
                    ds.Manufacturer, ds.ManufacturerModelName = maker, model
                for tag, value in PATIENT.items():
                    setattr(ds, tag, value)
                ds.StudyID = str(studies[old_study] % 10**6)
                ds.SeriesNumber = new_series % 1000
                ds.SeriesDescription = header_text
                ds.InstanceNumber = int(ds.InstanceNumber) + offset
                ds.StudyInstanceUID = study_uid
                ds.SeriesInstanceUID = generate_uid(entropy_srcs=[study_uid, str(new_series)])
                ds.SOPInstanceUID = generate_uid(
                    entropy_srcs=[study_uid, str(new_series), str(ds.InstanceNumber)]
                )
                ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
                ds.save_as(out_dir / f"{ds.InstanceNumber}.dcm", enforce_file_format=True)
                template = ds
        if s == 1 and template is not None:  # one study carries a scout series nobody labelled
            loc_id = int(rng.integers(_ID_LOW, _ID_HIGH))
            loc_dir = target / IMAGES_DIR / str(studies[old_study]) / str(loc_id)
            loc_dir.mkdir()
            for ds in _localiser(template, loc_id, study_uid):
                ds.save_as(loc_dir / f"{ds.InstanceNumber}.dcm", enforce_file_format=True)

    moved = []
    for row in coords.itertuples(index=False):
        x, y = moves[row.series_id](np.float64(row.x), np.float64(row.y))
        moved.append(
            {
                "study_id": studies[row.study_id],
                "series_id": series_ids[row.series_id],
                "instance_number": int(row.instance_number) + offsets[row.series_id],
                "condition": row.condition,
                "level": row.level,
                "x": round(float(x), 3),
                "y": round(float(y), 3),
            }
        )
    pd.DataFrame(moved).to_csv(target / COORDINATES_CSV, index=False)
    descriptions.assign(
        study_id=descriptions["study_id"].map(studies),
        series_id=descriptions["series_id"].map(series_ids),
    ).to_csv(target / SERIES_DESCRIPTIONS_CSV, index=False)
    train.assign(study_id=train["study_id"].map(studies)).to_csv(target / TRAIN_CSV, index=False)
    return {"study": studies, "series": series_ids}


def written_text(root: Path) -> list[tuple[Path, str]]:
    """Every file under ``root`` as text to search: bytes decoded loosely, Parquet tables as CSV."""
    out = []
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        text = path.read_bytes().decode("latin-1")
        if path.suffix == ".parquet":
            text += pd.read_parquet(path).astype(str).to_csv()
        out.append((path, text))
    return out


def patient_fields_in(root: Path) -> list[str]:
    """``"<file>: <field>"`` for every file under ``root`` holding a value of :data:`PATIENT`."""
    needles = {tag: value for tag, value in PATIENT.items()}
    needles["PatientFamilyName"] = PATIENT["PatientName"].split("^")[0]
    return [
        f"{path}: {tag}"
        for path, text in written_text(root)
        for tag, value in needles.items()
        if value in text
    ]


def copy_without(source: Path, target: Path, description: str) -> Path:
    """A copy of a cohort without any series of ``description`` (files, CSV rows, coordinates)."""
    shutil.copytree(source, target)
    descriptions = pd.read_csv(target / SERIES_DESCRIPTIONS_CSV)
    gone = descriptions[descriptions["series_description"] == description]
    for row in gone.itertuples(index=False):
        shutil.rmtree(target / IMAGES_DIR / str(row.study_id) / str(row.series_id))
    descriptions.drop(gone.index).to_csv(target / SERIES_DESCRIPTIONS_CSV, index=False)
    coords = pd.read_csv(target / COORDINATES_CSV)
    coords[~coords["series_id"].isin(gone["series_id"])].to_csv(
        target / COORDINATES_CSV, index=False
    )
    return target
