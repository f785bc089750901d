"""Nodes of the split pipeline: what every condition shares, made once before any of them.

One split per study (from ``train.csv`` and the series table, stratified by the worst canal
grade, held-out sites whole), the labelled canal points in patient space (the landmarks the
foramina and recesses are checked against), and the training split's grade frequencies (the prior
that evaluation and inference give a target they cannot grade).
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from disc_grade.alignment.landmarks import labelled_landmarks
from disc_grade.alignment.split import assign_splits, holdout_sites, study_table
from disc_grade.cohort_stats import grade_mix
from disc_grade.evaluation.rsna_score import condition_prior
from disc_grade.evaluation.rsna_targets import labels_long
from disc_grade.provenance import describe_source

logger = logging.getLogger(__name__)


def describe_data_source(train_labels: pd.DataFrame, raw_root: str) -> dict:
    """What the run is measured on, read from the data (the phantom's marker, train.csv's hash)."""
    source = describe_source(raw_root) | {"n_studies": int(train_labels["study_id"].nunique())}
    source["grade_mix"], mix = grade_mix(train_labels)
    source["description"] += f", {source['n_studies']} studies; {mix}"
    logger.info("data source: %s", source["description"])
    return source


def split_studies(
    train_labels: pd.DataFrame,
    series: pd.DataFrame,
    holdout_suggestion: dict,
    params: dict[str, Any],
) -> pd.DataFrame:
    """One row per study of ``train.csv``: ``split`` (and ``fold``), whatever series it has.

    Held-out sites: ``split.holdout_sites`` when set, else the data's own suggestion (only the
    phantom writes one), else none. A held-out site's study trains nothing, in any condition.
    """
    held = holdout_sites(params, holdout_suggestion)
    origin = (
        "split.holdout_sites"
        if params.get("holdout_sites") is not None
        else ("the data's phantom_split.json" if held else "the default")
    )
    logger.info("split: holding out sites %s (%s)", held or "none", origin)
    splits = assign_splits(study_table(train_labels, series), params, holdout_suggestion)
    logger.info(
        "split (studies by worst canal grade):\n%s",
        splits.groupby(["split", "worst_label"]).size().unstack(fill_value=0).to_string(),
    )
    return splits


def locate_landmarks(label_coordinates: pd.DataFrame, dicom_index: pd.DataFrame) -> pd.DataFrame:
    """The labelled canal points in patient coordinates (``alignment.landmarks``)."""
    landmarks = labelled_landmarks(label_coordinates, dicom_index)
    logger.info(
        "landmarks: %d canal points of %d studies", len(landmarks), landmarks["study_id"].nunique()
    )
    return landmarks


def training_priors(train_labels: pd.DataFrame, study_splits: pd.DataFrame) -> pd.DataFrame:
    """Per condition the grade frequencies of the training split (add-one smoothed), plain
    (``weighted`` False: the prior a target gets when it cannot be graded) and times the sample
    weights 1/2/4, renormalised (the best constant under the competition's log loss)."""
    labels = labels_long(train_labels)
    train = set(study_splits.loc[study_splits["split"] == "train", "study_id"])
    rows = labels[labels["study_id"].isin(train)]
    return pd.concat(
        [
            condition_prior(rows).assign(weighted=False),
            condition_prior(rows, True).assign(weighted=True),
        ],
        ignore_index=True,
    )
