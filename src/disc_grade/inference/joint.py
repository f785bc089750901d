"""The joint head at inference: a study's found targets of every condition graded together,
for the conditions validation kept it for (``models.grading.joint``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from disc_grade.models.grading.context_grading import KEYS
from disc_grade.models.grading.decision import calibrated_table
from disc_grade.models.grading.joint import grade_jointly, kept_conditions
from disc_grade.models.grading.novelty import from_tensors, novelty
from disc_grade.rsna import PROB_COLUMNS, SEVERITIES


def regrade(
    bundle: dict,
    grades: dict[str, pd.DataFrame],
    features: dict[str, pd.DataFrame],
    label_priors: pd.DataFrame,
) -> dict[str, pd.DataFrame]:
    """Each condition's grades, those of the conditions the joint head grades replaced by its
    calibrated probabilities and grades (``variant`` gains ``+joint``); the others as they were.

    Args:
        grades: per condition its inference grades (``graded_rows``).
        features: per condition the chosen grader's ``features_table`` of its graded targets.

    Raises:
        ValueError: the joint head read another grader than the one that graded a condition.
    """
    kept = kept_conditions(bundle) if bundle else []
    if not kept:
        return grades
    raw = grade_jointly(bundle, features)
    out = dict(grades)
    for name in kept:
        own = grades[name]
        graded = own[own["graded"].astype(bool)]
        variant = bundle["conditions"][name]["variant"]
        if len(graded) and not graded["variant"].astype(str).str.startswith(variant).all():
            raise ValueError(
                f"the joint head reads {name}'s '{variant}' grader, inference graded it with "
                f"{sorted(set(graded['variant']))}: rerun the train pipeline"
            )
        rows = graded[KEYS].merge(raw, on=KEYS, how="left", validate="1:1")
        probs = rows[PROB_COLUMNS].to_numpy(dtype=float)
        table = rows.assign(predicted=probs.argmax(axis=1))
        calibrated = calibrated_table(
            table, bundle["conditions"][name]["calibration"], label_priors
        )
        updated = own.copy()
        where = np.flatnonzero(own["graded"].astype(bool).to_numpy())
        for column in PROB_COLUMNS:
            updated.loc[updated.index[where], column] = calibrated[column].to_numpy()
        grade = np.array(SEVERITIES)[calibrated["predicted"].to_numpy(dtype=int)]
        updated.loc[updated.index[where], "grade"] = grade
        updated.loc[updated.index[where], "variant"] = graded["variant"].astype(str) + "+joint"
        out[name] = updated
    return out


def mark_unlike_training(
    bundle: dict, grades: dict[str, pd.DataFrame], features: dict[str, pd.DataFrame]
) -> dict[str, pd.DataFrame]:
    """Each condition's grades with its study's ``novelty`` and ``unlike_training`` (the
    warning: the study's features lie farther from the training studies' than the threshold
    validation set; ``models.grading.novelty``). Without a fitted warning: NaN and False. A
    skipped condition's grades (no rows, no columns) pass through as they are: its study's
    novelty comes from the conditions that graded it."""
    if not (bundle or {}).get("novelty"):
        return {n: g.assign(novelty=np.nan, unlike_training=False) for n, g in grades.items()}
    scores = novelty(from_tensors(bundle["novelty"]), features)[
        ["study_id", "novelty", "unlike_training"]
    ]
    out = {}
    for name, own in grades.items():
        if "study_id" not in own.columns:
            out[name] = own
            continue
        marked = own.drop(columns=["novelty", "unlike_training"], errors="ignore").merge(
            scores, on="study_id", how="left"
        )
        out[name] = marked.assign(
            unlike_training=marked["unlike_training"].fillna(False).astype(bool)
        )
    return out
