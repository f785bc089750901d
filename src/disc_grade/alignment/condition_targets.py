"""Nodes: a condition's labels meet its images (targets, exclusions, reconciliation, status)."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from disc_grade.alignment.targets import align_targets, anatomy_offsets, reconcile, status
from disc_grade.conditions import spec_of
from disc_grade.jsonable import json_ready

logger = logging.getLogger(__name__)


def align_condition(
    train_labels: pd.DataFrame,
    label_coordinates: pd.DataFrame,
    series_descriptions: pd.DataFrame,
    series: pd.DataFrame,
    dicom_index: pd.DataFrame,
    study_splits: pd.DataFrame,
    landmarks: pd.DataFrame,
    name: str,
    params: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict]:
    """The condition's targets, every other label cell with its reason, the per-condition
    reconciliation (cells = targets + exclusions, checked) and the condition's status.

    Raises:
        RuntimeError: the cells and targets + exclusions differ (a bug, never the data).
    """
    spec = spec_of(name)
    targets, exclusions = align_targets(
        spec,
        train_labels,
        label_coordinates,
        series_descriptions,
        series,
        dicom_index,
        study_splits,
        landmarks,
        params,
    )
    table = reconcile(spec, train_labels, targets, exclusions)
    for row in table.itertuples():
        logger.info(
            "alignment[%s]: %d label cells = %d targets + %d excluded",
            row.condition,
            row.label_cells,
            row.targets,
            row.excluded,
        )
    if not table["balanced"].all():
        raise RuntimeError(f"alignment[{name}]: cells and targets + exclusions differ:\n{table}")
    state = status(spec, targets, table)
    if not state["trained"]:
        logger.warning("%s: skipped, %s", name, state["reason"])
    return targets, exclusions, table, state


def learn_offsets(
    targets: pd.DataFrame, landmarks: pd.DataFrame, dicom_index: pd.DataFrame, name: str
) -> dict:
    """Where the condition's labelled points lie from the canal point (training split): the
    localiser's slice prior expects a foramen that far out."""
    offsets = anatomy_offsets(targets, landmarks, dicom_index)
    logger.info(
        "%s: %.1f mm lateral (MAD %.1f), %.1f mm anterior (MAD %.1f) of the canal point, "
        "%d training points",
        name,
        offsets["lateral_mm"],
        offsets["lateral_mad_mm"],
        offsets["anterior_mm"],
        offsets["anterior_mad_mm"],
        offsets["n_points"],
    )
    return json_ready(offsets)
