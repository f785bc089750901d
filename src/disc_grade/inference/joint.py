"""The joint head at inference: a study's found targets of every condition graded together,
for the conditions validation kept it for (``models.grading.joint``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from disc_grade.models.grading.context_grading import KEYS
from disc_grade.models.grading.decision import calibrated_table
from disc_grade.models.grading.joint import grade_jointly, kept_conditions
from disc_grade.models.grading.novelty import from_tensors, novelty
from disc_grade.models.grading.stacker import apply_stacker
from disc_grade.rsna import PROB_COLUMNS, SEVERITIES, condition_family


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


def stack_grades(bundle: dict, grades: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Each condition's grades, the graded targets of the families the study stacker keeps given
    its probabilities (read from every graded target of their study; ``variant`` gains
    ``+stacked``, the grade stays); the rest as they were. Without a stacker: unchanged."""
    model = (bundle or {}).get("stacker") or {}
    if not any(f.get("kept") for f in model.get("families", {}).values()):
        return grades
    parts = [
        g[g["graded"].astype(bool)].assign(_name=n, _row=g.index[g["graded"].astype(bool)])
        for n, g in grades.items()
        if "graded" in g.columns and len(g)
    ]
    if not parts:
        return grades
    table = pd.concat(parts, ignore_index=True)
    stacked = apply_stacker(model, table)
    kept = {f for f, own in model["families"].items() if own.get("kept")}
    moved = table["condition"].map(condition_family).isin(kept).to_numpy()
    out = dict(grades)
    for name, rows in stacked[moved].groupby("_name"):
        updated = out[name].copy()
        updated.loc[rows["_row"].to_numpy(), PROB_COLUMNS] = rows[PROB_COLUMNS].to_numpy()
        where = rows["_row"].to_numpy()
        updated.loc[where, "variant"] = updated.loc[where, "variant"].astype(str) + "+stacked"
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
