"""The inference table: one row per target of every study, graded or flagged with its reason."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from disc_grade.localiser.find import LEVEL_UNCERTAIN
from disc_grade.rsna import LEVEL_NAMES, PROB_COLUMNS, SEVERITIES, submission_targets

logger = logging.getLogger(__name__)

NO_GRADER = "no {condition} grader (the training run skipped this condition): prior probabilities"
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
    "level_uncertain",
    "graded",
    "grade",
    *PROB_COLUMNS,
    "flag",
    "variant",
    "novelty",
    "unlike_training",
]


def graded_rows(graded: pd.DataFrame, flagged: pd.DataFrame, variant: str) -> pd.DataFrame:
    """A condition's graded targets (crop index rows with their calibrated ``PROB_COLUMNS`` and
    ``predicted`` grade) and its flagged ones (``study_id, condition, level, reason``), in
    ``GRADE_COLUMNS``."""
    columns = ["study_id", "condition", "level", "series_id", "slice_rank", "x", "y", "peak"]
    uncertain = graded.get("level_uncertain", pd.Series(False, index=graded.index))
    graded = graded[[*columns, *PROB_COLUMNS]].assign(
        level_uncertain=uncertain.fillna(False).astype(bool).to_numpy(),
        graded=True,
        grade=np.array(SEVERITIES)[graded["predicted"].to_numpy(dtype=int)],
        flag="",
    )
    flagged = flagged.rename(columns={"reason": "flag"}).assign(graded=False, grade="")
    flagged["level_uncertain"] = flagged["flag"] == LEVEL_UNCERTAIN
    table = pd.concat([graded, flagged], ignore_index=True).assign(variant=variant)
    return table.reindex(columns=[c for c in GRADE_COLUMNS if c != "level_name"])


def target_table(
    study_ids, parts: list[pd.DataFrame], prior: pd.DataFrame, names: dict[str, str]
) -> pd.DataFrame:
    """All 25 targets of every study in ``sample_submission.csv`` order.

    A target no part lists (its condition was skipped in training) gets its condition's
    training prior and the ``NO_GRADER`` flag; a flagged one gets the prior and keeps its flag.
    ``level_uncertain`` holds for every condition of a study's level where any of them (the
    canal's joint decoding of the levels) doubts the level.

    Args:
        parts: every condition's ``graded_rows``.
        prior: ``condition, p_normal_mild, p_moderate, p_severe`` of the training split.
        names: RSNA condition -> the project's condition name (for the flag).
    """
    keys = pd.DataFrame(
        submission_targets(study_ids), columns=["study_id", "condition", "level"]
    ).astype({"study_id": "int64"})
    listed = [p for p in parts if len(p)]
    rows = pd.concat(listed, ignore_index=True) if listed else pd.DataFrame(columns=GRADE_COLUMNS)
    table = keys.merge(
        rows.drop(columns=["level_name"], errors="ignore"),
        on=["study_id", "condition", "level"],
        how="left",
        validate="1:1",
    )
    known = table["graded"].notna()
    fill = table[["condition"]].merge(prior, on="condition", how="left", validate="m:1")
    graded = table["graded"].astype("boolean").fillna(False).astype(bool)
    for column in PROB_COLUMNS:
        table[column] = table[column].astype(float).where(graded, fill[column])
    table["graded"] = graded
    no_grader = table["condition"].map(lambda c: NO_GRADER.format(condition=names[c]))
    table["flag"] = table["flag"].where(known, no_grader).fillna("")
    table["grade"] = table["grade"].fillna("")
    table["level_name"] = table["level"].map(LEVEL_NAMES)
    table["variant"] = table["variant"].fillna("")
    # every condition reads the canal's levels: a level in doubt is in doubt for all of them
    doubt = table["level_uncertain"].astype("boolean").fillna(False).astype(bool)
    table["level_uncertain"] = doubt.groupby([table["study_id"], table["level"]]).transform("any")
    # a study's novelty is its own, whichever condition carried it
    by_study = table.groupby("study_id")
    table["novelty"] = by_study["novelty"].transform("max")
    table["unlike_training"] = by_study["unlike_training"].transform(
        lambda v: v.fillna(False).astype(bool).any()
    )
    logger.info(
        "inference: %d targets of %d studies, %d graded, %d at the prior",
        len(table),
        table["study_id"].nunique(),
        int(graded.sum()),
        int((~graded).sum()),
    )
    return table[GRADE_COLUMNS]
