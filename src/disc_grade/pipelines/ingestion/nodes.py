"""Nodes of the ingestion pipeline: header-only scan of the image tree."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from disc_grade.datasets import DicomTree
from disc_grade.dicom.headers import OK, cpu_workers, scan_headers
from disc_grade.dicom.series import build_series_table

logger = logging.getLogger(__name__)


def scan_dicom_headers(images: DicomTree, params: dict[str, Any]) -> pd.DataFrame:
    """Index every file of the tree (no pixel decoding), with a status per file."""
    files = images.files()
    if not files:
        raise ValueError(
            f"no files under '{images.root}': is raw_root right, or was the phantom made?"
        )
    index = scan_headers(
        images.root,
        files,
        workers=cpu_workers(params.get("workers")),
        chunk_size=int(params["chunk_size"]),
    )
    counts = index["status"].value_counts()
    logger.info(
        "ingestion: %d files, %d studies, %d series; %d readable, %d not (%s)",
        len(index),
        index["study_id"].nunique(),
        index[["study_id", "series_id"]].drop_duplicates().shape[0],
        int(counts.get(OK, 0)),
        int(len(index) - counts.get(OK, 0)),
        ", ".join(f"{k}: {v}" for k, v in counts.items() if k != OK) or "none",
    )
    return index


def summarise_series(dicom_index: pd.DataFrame) -> pd.DataFrame:
    """One row per series with its plane and slices in spatial order."""
    series = build_series_table(dicom_index)
    logger.info(
        "ingestion: %d series (%s)",
        len(series),
        ", ".join(f"{k}: {v}" for k, v in series["plane"].value_counts().items()),
    )
    return series
