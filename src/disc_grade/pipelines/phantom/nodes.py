"""Nodes of the phantom pipeline: a synthetic cohort in the RSNA 2024 layout."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from disc_grade.datasets import DicomTree
from disc_grade.phantom.anatomy import PhantomConfig
from disc_grade.phantom.atlas import atlas_figure
from disc_grade.phantom.cohort import PhantomImageStream, make_cohort
from disc_grade.phantom.preview import preview_figure
from disc_grade.phantom.tables import split_suggestion, truth_table
from disc_grade.provenance import claim_for_phantom

logger = logging.getLogger(__name__)


def make_phantom_cohort(
    params: dict[str, Any], raw_root: str
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, PhantomImageStream, pd.DataFrame, dict]:
    """Draw the cohort: the three RSNA CSVs, a lazy stream of its DICOM files, the truth and
    the split suggestion.

    The truth sidecar (``phantom_truth.csv``: site, latent, compromise per disc) is for
    evaluation's ceiling and for people; no pipeline trains on it. The split suggestion
    (``phantom_split.json``) names the sites the phantom holds out; the split follows it while
    ``alignment.split.holdout_sites`` is null.

    ``raw_root`` is claimed first (its marker written), so no file of a folder the phantom did
    not write, CSVs included, is ever replaced: Kedro saves the outputs only after this returns.

    Args:
        params: ``phantom`` parameters: ``cohort`` (see ``PhantomConfig``) and ``workers``.
        raw_root: where the cohort goes; empty, new, or written by the phantom before.

    Raises:
        NotOurs: ``raw_root`` holds files the phantom did not write.
    """
    claim_for_phantom(raw_root)
    config = PhantomConfig.from_params(params["cohort"])
    workers = int(params["workers"])
    specs, train, coordinates, series, images = make_cohort(config, workers=workers)
    logger.info(
        "phantom: %d studies, %d series, %d label coordinates, %d workers",
        len(specs),
        len(series),
        len(coordinates),
        workers,
    )
    suggestion = split_suggestion(config)
    return train, coordinates, series, images, truth_table(specs, config), suggestion


def draw_atlas(params: dict[str, Any]):
    """One mid-sagittal crop per site (rows) and grade (columns), for docs and reviewers."""
    return atlas_figure(PhantomConfig.from_params(params["cohort"]))


def preview_phantom(images: DicomTree, coordinates: pd.DataFrame, train: pd.DataFrame):
    """Figure of mid sagittal slices with the labelled points, read back from the files."""
    return preview_figure(images.root, coordinates, train)
