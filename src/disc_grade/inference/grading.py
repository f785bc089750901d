"""The inference table: one row per requested (study, level), graded or flagged with its reason."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from disc_grade.inference.studies import every_level
from disc_grade.rsna import LEVEL_NAMES, PROB_COLUMNS, SEVERITIES

logger = logging.getLogger(__name__)

NOT_GRADED = "level not graded"
GRADE_COLUMNS = [
    "study_id",
    "level",
    "level_name",
    "series_id",
    "slice_rank",
    "x",
    "y",
    "peak",
    "graded",
    "grade",
    *PROB_COLUMNS,
    "flag",
    "variant",
]


def normalised_prior(prior) -> np.ndarray:
    """The probabilities given to a level that cannot be graded, summing to one.

    Raises:
        ValueError: not three non-negative numbers with a positive sum.
    """
    prior = np.asarray(prior, dtype=float)
    if prior.shape != (len(SEVERITIES),) or (prior < 0).any() or prior.sum() <= 0:
        raise ValueError(
            f"inference.prior needs {len(SEVERITIES)} non-negative numbers, got {prior}"
        )
    return prior / prior.sum()


def level_table(
    targets: pd.DataFrame,
    points: pd.DataFrame,
    graded: pd.DataFrame,
    excluded: pd.DataFrame,
    prior: np.ndarray,
    variant: str,
) -> pd.DataFrame:
    """Every level of every study: its grade, or the prior and a flag saying why not.

    Args:
        targets: per study the chosen series or why there is none (``status``, ``reason``).
        points: per (study, level) the localiser's point, ``status`` and ``reason``.
        graded: per graded (study, level) the probabilities ``PROB_COLUMNS``.
        excluded: per (study, level) why the cropper could not cut its ROI (``reason``).
        prior: ``normalised_prior`` probabilities for levels not graded.
    """
    table = every_level(targets["study_id"]).merge(
        targets[["study_id", "series_id", "status", "reason"]], on="study_id", how="left"
    )
    table = table.merge(
        points[["study_id", "level", "slice_rank", "x", "y", "peak", "status", "reason"]],
        on=["study_id", "level"],
        how="left",
        suffixes=("_study", ""),
    )
    table = table.merge(
        graded[["study_id", "level", *PROB_COLUMNS]].assign(graded=True),
        on=["study_id", "level"],
        how="left",
    )
    table["graded"] = table["graded"].astype("boolean").fillna(False).astype(bool)
    for k, column in enumerate(PROB_COLUMNS):
        table[column] = table[column].fillna(prior[k])
    # the first reason that applies: the study's, the localiser's, the cropper's
    reason = table["reason_study"].where(table["status_study"] != "ok", table["reason"])
    reason = reason.fillna("").replace("", np.nan)
    if len(excluded):
        cropper = excluded.set_index(["study_id", "level"])["reason"]
        keys = pd.MultiIndex.from_frame(table[["study_id", "level"]])
        reason = reason.fillna(pd.Series(cropper.reindex(keys).to_numpy(), index=table.index))
    table["flag"] = np.where(table["graded"], "", reason.fillna(NOT_GRADED))
    table["grade"] = np.where(
        table["graded"], np.array(SEVERITIES)[table[PROB_COLUMNS].to_numpy().argmax(1)], ""
    )
    table["level_name"] = table["level"].map(LEVEL_NAMES)
    table["variant"] = variant
    logger.info(
        "inference: %d levels of %d studies, %d graded, %d with prior probabilities",
        len(table),
        table["study_id"].nunique(),
        int(table["graded"].sum()),
        int((~table["graded"]).sum()),
    )
    return table[GRADE_COLUMNS]
