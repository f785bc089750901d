"""Nodes of the alignment pipeline: labels meet images, then the study-level split."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from disc_grade.alignment.labels import align_discs
from disc_grade.alignment.split import assign_splits, holdout_sites
from disc_grade.provenance import describe_source

logger = logging.getLogger(__name__)


def align_disc_labels(
    train_labels: pd.DataFrame,
    label_coordinates: pd.DataFrame,
    series_descriptions: pd.DataFrame,
    series: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per usable spinal-canal disc, and every other label cell with its reason."""
    discs, exclusions = align_discs(train_labels, label_coordinates, series_descriptions, series)
    cells = exclusions[exclusions["source"] == "label_cell"]
    reasons = ", ".join(f"{k}: {v}" for k, v in cells["reason"].value_counts().items()) or "none"
    logger.info(
        "alignment: %d label cells = %d discs + %d excluded (%s)",
        len(discs) + len(cells),
        len(discs),
        len(cells),
        reasons,
    )
    if discs.empty or not (discs["label"] >= 0).any():
        raise RuntimeError(
            f"alignment: no spinal canal disc could be aligned ({len(cells)} label cells "
            f"excluded: {reasons}). The canal's discs carry the split and give the other "
            "conditions their midlines and disc planes, so no condition can be trained; "
            "see data/08_reporting/alignment_exclusions.csv."
        )
    return discs, exclusions


def describe_data_source(train_labels: pd.DataFrame, raw_root: str) -> dict:
    """What the run is measured on, read from the data (the phantom's marker, train.csv's hash)."""
    source = describe_source(raw_root) | {"n_studies": int(train_labels["study_id"].nunique())}
    source["description"] += f", {source['n_studies']} studies"
    logger.info("data source: %s", source["description"])
    return source


def split_studies(
    aligned_discs: pd.DataFrame, holdout_suggestion: dict, params: dict[str, Any]
) -> pd.DataFrame:
    """Add ``split`` (and ``fold``) per study: no study is on two sides.

    Held-out sites: ``alignment.split.holdout_sites`` when set, else the data's own suggestion
    (only the phantom writes one), else none.
    """
    held = holdout_sites(params, holdout_suggestion)
    origin = (
        "alignment.split.holdout_sites"
        if params.get("holdout_sites") is not None
        else ("the data's phantom_split.json" if held else "the default")
    )
    logger.info("alignment split: holding out sites %s (%s)", held or "none", origin)
    splits = assign_splits(aligned_discs, params, holdout_suggestion)
    discs = aligned_discs.merge(
        splits[["study_id", "split", "fold"]], on="study_id", how="left", validate="m:1"
    )
    summary = discs.groupby(["split", "label"]).size().unstack(fill_value=0)
    logger.info("alignment split (discs by label):\n%s", summary.to_string())
    return discs
