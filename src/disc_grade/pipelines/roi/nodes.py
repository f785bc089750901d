"""Nodes of the roi pipeline: one 2.5D crop per disc and a gallery."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from disc_grade.datasets import DicomTree
from disc_grade.dicom.extract import RoiSpec, extract_rois
from disc_grade.dicom.gallery import roi_gallery
from disc_grade.dicom.headers import cpu_workers

logger = logging.getLogger(__name__)


def extract_disc_rois(
    discs: pd.DataFrame, series: pd.DataFrame, images: DicomTree, params: dict[str, Any]
) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame]:
    """Crop every disc; discs whose slice cannot be decoded are listed with the reason."""
    spec = RoiSpec.from_params(params)
    rois, index, exclusions = extract_rois(
        images.root, discs, series, spec, cpu_workers(params.get("workers"))
    )
    logger.info(
        "roi: %d discs = %d ROIs %s + %d excluded; %d with a replaced neighbour slice",
        len(discs),
        len(index),
        tuple(rois.shape[1:]),
        len(exclusions),
        int(index["neighbour_replaced"].sum()),
    )
    return rois, index, exclusions


def plot_roi_gallery(disc_rois: np.ndarray, roi_index: pd.DataFrame):
    """ROIs by severity for kedro-viz and the report."""
    return roi_gallery(disc_rois, roi_index)
