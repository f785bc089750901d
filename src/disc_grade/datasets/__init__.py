"""Custom Kedro datasets: a DICOM image tree, float16 arrays, torch models."""

from disc_grade.datasets.dicom_tree import DicomTree, DicomTreeDataset
from disc_grade.datasets.npy import NpyDataset

__all__ = ["DicomTree", "DicomTreeDataset", "NpyDataset"]
