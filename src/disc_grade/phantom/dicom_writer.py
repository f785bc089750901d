"""Write phantom slices as valid MR Image Storage DICOM, deterministically.

UIDs are derived from the study/series ids and instance numbers, and no date or time of
writing is stored, so the same spec always gives the same bytes.
"""

from __future__ import annotations

import io

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, RLELossless, generate_uid

from disc_grade.phantom.sites import MANUFACTURER

STORED_BITS = 12
PHANTOM_PATIENT_NAME = "PHANTOM^DO NOT EXPORT"  # tests check it never reaches an output
PHANTOM_BIRTH_DATE = "19700101"


def _uid(*parts: object) -> str:
    return generate_uid(entropy_srcs=[str(p) for p in parts])


def slice_dataset(
    pixels: np.ndarray,
    *,
    study_id: int,
    series_id: int,
    instance_number: int,
    description: str,
    position: tuple[float, float, float],
    orientation: tuple[float, ...],
    pixel_spacing: float,
    slice_thickness: float | None,
    spacing_between: float,
    rle: bool,
    scanner_model: str = "",
) -> Dataset:
    """Build one slice's dataset with the geometry tags a scanner writes.

    Args:
        pixels: uint16 image [rows, columns] with values below ``2**STORED_BITS``.
        position: ImagePositionPatient of the first pixel's centre (mm, LPS).
        orientation: ImageOrientationPatient, row then column direction cosines.
        slice_thickness: None leaves the tag out (a quirk of some real series).
        rle: store RLE Lossless compressed instead of explicit little endian.
        scanner_model: ManufacturerModelName (the phantom's site), left out when empty.
    """
    if pixels.dtype != np.uint16 or pixels.ndim != 2:
        raise ValueError(f"pixels must be a 2-D uint16 array, got {pixels.dtype} {pixels.shape}")
    sop_uid = _uid("sop", study_id, series_id, instance_number)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MRImageStorage
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = MRImageStorage
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID = _uid("study", study_id)
    ds.SeriesInstanceUID = _uid("series", study_id, series_id)
    ds.FrameOfReferenceUID = _uid("frame", study_id)
    ds.Modality = "MR"
    ds.Manufacturer = MANUFACTURER
    if scanner_model:
        ds.ManufacturerModelName = scanner_model
    ds.PatientName = PHANTOM_PATIENT_NAME
    ds.PatientID = str(study_id)
    ds.PatientBirthDate = PHANTOM_BIRTH_DATE
    ds.StudyID = str(study_id)[-8:]
    ds.SeriesNumber = int(series_id % 100000)
    ds.SeriesDescription = description
    ds.InstanceNumber = int(instance_number)
    ds.ImagePositionPatient = [round(float(p), 4) for p in position]
    ds.ImageOrientationPatient = [round(float(o), 6) for o in orientation]
    ds.PixelSpacing = [round(float(pixel_spacing), 6)] * 2
    if slice_thickness is not None:
        ds.SliceThickness = round(float(slice_thickness), 4)
    ds.SpacingBetweenSlices = round(float(spacing_between), 4)
    ds.ScanningSequence = "SE"
    ds.set_pixel_data(
        pixels,
        photometric_interpretation="MONOCHROME2",
        bits_stored=STORED_BITS,
        generate_instance_uid=False,
    )
    if rle:
        ds.compress(RLELossless, generate_instance_uid=False)
    return ds


def to_bytes(ds: Dataset) -> bytes:
    """Serialise as a DICOM Part 10 file (preamble, file meta, dataset)."""
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()
