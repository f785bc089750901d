"""Custom Kedro datasets: a DICOM image tree, float16 arrays, torch weights, PNG figures, model bundles."""

from disc_grade.datasets.dicom_tree import DicomTree, DicomTreeDataset
from disc_grade.datasets.figure import PngFigureDataset
from disc_grade.datasets.model_bundle import ModelBundleDataset
from disc_grade.datasets.npy import NpyDataset
from disc_grade.datasets.optional_csv import OptionalCSVDataset, OptionalJSONDataset
from disc_grade.datasets.torch_state import TorchStateDataset

__all__ = [
    "DicomTree",
    "DicomTreeDataset",
    "ModelBundleDataset",
    "NpyDataset",
    "OptionalCSVDataset",
    "OptionalJSONDataset",
    "PngFigureDataset",
    "TorchStateDataset",
]
