"""The inference table: one row per requested (study, level), graded or flagged with its reason."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from disc_grade.inference.studies import every_level
from disc_grade.rsna import (
    FAMILIES,
    LEVEL_NAMES,
    PROB_COLUMNS,
    SEVERITIES,
    SPINAL,
    condition_family,
    submission_targets,
)

logger = logging.getLogger(__name__)

NOT_GRADED = "level not graded"
NO_GRADER = "no {family} grader (the training run skipped this condition): prior probabilities"
GRADE_COLUMNS = [
    "study_id",
    "condition",
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


def normalised_prior(prior) -> dict[str, np.ndarray]:
    """Per condition family, the probabilities given to a target that cannot be graded.

    Raises:
        ValueError: not a mapping of every family to three non-negative numbers with a
            positive sum (the parameter and the family are named).
    """
    if not isinstance(prior, dict) or sorted(prior) != sorted(FAMILIES):
        raise ValueError(
            f"inference.prior needs one entry per condition family {list(FAMILIES)}, got {prior}"
        )
    out = {}
    for family in FAMILIES:
        p = np.asarray(prior[family], dtype=float)
        if p.shape != (len(SEVERITIES),) or (p < 0).any() or p.sum() <= 0:
            raise ValueError(
                f"inference.prior.{family} needs {len(SEVERITIES)} non-negative numbers, got {p}"
            )
        out[family] = p / p.sum()
    return out


def level_table(
    targets: pd.DataFrame,
    points: pd.DataFrame,
    graded: pd.DataFrame,
    excluded: pd.DataFrame,
    prior: np.ndarray,
    variant: str,
) -> pd.DataFrame:
    """Every spinal level of every study: its grade, or the prior and a flag saying why not.

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
    table["condition"] = SPINAL
    table["variant"] = variant
    logger.info(
        "inference: %d levels of %d studies, %d graded, %d with prior probabilities",
        len(table),
        table["study_id"].nunique(),
        int(table["graded"].sum()),
        int((~table["graded"]).sum()),
    )
    return table[GRADE_COLUMNS]


def target_table(
    spinal: pd.DataFrame,
    study_ids: pd.Series,
    prior: dict[str, np.ndarray],
    families: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """All 25 targets of every study in ``sample_submission.csv`` order.

    Spinal levels come from ``spinal`` (``level_table``). The foraminal and subarticular
    targets come from ``families`` (``graded`` rows with probabilities, or ungraded rows with a
    ``flag``); a target it does not list gets its family's prior and the ``NO_GRADER`` flag.
    """
    keys = pd.DataFrame(
        submission_targets(study_ids), columns=["study_id", "condition", "level"]
    ).astype({"study_id": "int64"})
    columns = [c for c in GRADE_COLUMNS if c not in keys.columns]
    parts = [spinal] + ([families] if families is not None and len(families) else [])
    graded = pd.concat([p.reindex(columns=[*keys.columns, *columns]) for p in parts])
    table = keys.merge(graded, on=["study_id", "condition", "level"], how="left", validate="1:1")
    listed = table["graded"].notna()
    family = table["condition"].map(condition_family)
    for k, column in enumerate(PROB_COLUMNS):
        fill = family.map(lambda f, k=k: prior[f][k])
        table[column] = table[column].where(table[column].notna(), fill)
    table["graded"] = table["graded"].astype("boolean").fillna(False).astype(bool)
    no_grader = family.map(lambda f: NO_GRADER.format(family=f))
    table["flag"] = table["flag"].where(listed, no_grader).fillna("")
    table["level_name"] = table["level"].map(LEVEL_NAMES)
    table["grade"] = table["grade"].fillna("")
    table["variant"] = table["variant"].ffill().bfill()
    return table[GRADE_COLUMNS]
