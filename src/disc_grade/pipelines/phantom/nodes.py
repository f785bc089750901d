"""Nodes of the phantom pipeline: a synthetic cohort in the RSNA 2024 layout."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from disc_grade.datasets import DicomTree
from disc_grade.phantom.anatomy import PhantomConfig
from disc_grade.phantom.cohort import PhantomImageStream, make_cohort
from disc_grade.phantom.preview import preview_figure

logger = logging.getLogger(__name__)


def make_phantom_cohort(
    params: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, PhantomImageStream]:
    """Draw the cohort: the three RSNA CSVs and a lazy stream of its DICOM files.

    Args:
        params: ``phantom`` parameters: ``cohort`` (see ``PhantomConfig``) and ``workers``.
    """
    config = PhantomConfig.from_params(params.get("cohort", {}))
    workers = int(params.get("workers", 1))
    specs, train, coordinates, series, images = make_cohort(config, workers=workers)
    logger.info(
        "phantom: %d studies, %d series, %d label coordinates, %d workers",
        len(specs),
        len(series),
        len(coordinates),
        workers,
    )
    return train, coordinates, series, images


def preview_phantom(images: DicomTree, coordinates: pd.DataFrame, train: pd.DataFrame):
    """Figure of mid sagittal slices with the labelled points, read back from the files."""
    return preview_figure(images.root, coordinates, train)
