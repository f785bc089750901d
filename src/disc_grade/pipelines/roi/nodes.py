"""Nodes of the roi pipeline: one 2.5D crop per disc and a gallery."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from disc_grade.datasets import DicomTree
from disc_grade.dicom.extract import RoiSpec, crop_offsets, extract_rois
from disc_grade.dicom.gallery import roi_gallery
from disc_grade.dicom.headers import cpu_workers

logger = logging.getLogger(__name__)


def extract_disc_rois(
    discs: pd.DataFrame, series: pd.DataFrame, images: DicomTree, params: dict[str, Any]
) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame]:
    """Crop every disc around its point shifted by a seeded offset; undecodable discs are listed.

    The offsets (``roi.offset_mm``, ``roi.offset_seed``) move the canal point off the ROI's
    centre, so the localisation head has something to find and can fail.
    """
    spec = RoiSpec.from_params(params)
    offsets = crop_offsets(discs, float(params["offset_mm"]), int(params["offset_seed"]))
    rois, index, exclusions = extract_rois(
        images.root, discs, series, spec, cpu_workers(params.get("workers")), offsets
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
