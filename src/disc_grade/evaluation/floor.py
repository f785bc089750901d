"""The RSNA score's floor: what a grader that knows each target's latent severity scores.

The phantom writes, per target, the probability of each grade given its latent (the readers'
noise integrated). The metric weighs a target by 1, 2 or 4 by its true grade, so the
submission with the lowest expected loss is ``p_k`` proportional to ``w_k P(k | latent)``, not
``P(k | latent)`` itself; the any-severe-spinal term is the metric's own, from the largest
submitted P(Severe) over a study's spinal levels. The floor is that grader's score on the
same targets the graders are scored on. Real data has no latent: the floor is then unavailable.
"""

from __future__ import annotations

import pandas as pd

from disc_grade.evaluation.log_loss import submission_probabilities
from disc_grade.evaluation.rsna_score import rsna_score
from disc_grade.rsna import PROB_COLUMNS

KEYS = ["study_id", "condition", "level"]


def unavailable(truth: pd.DataFrame) -> str | None:
    """Why no floor can be computed, or None."""
    if truth.empty:
        return "no phantom_truth.csv: the latent severity is unknown"
    if "condition" not in truth.columns:
        return "phantom_truth.csv names no condition per row"
    return None


def floor_table(labels: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """``labels`` (``study_id, condition, level, label``) with the floor grader's probabilities.

    Raises:
        ValueError: a scored target has no truth row (the first is named).
    """
    oracle = truth[[*KEYS, *PROB_COLUMNS]].astype({"study_id": "int64"})
    table = labels[[*KEYS, "label"]].merge(oracle, on=KEYS, how="left", validate="1:1")
    lost = table[table[PROB_COLUMNS[0]].isna() & (table["label"] >= 0)]
    if len(lost):
        first = lost.iloc[0]
        raise ValueError(
            f"phantom_truth has no row for study {first['study_id']}, {first['condition']} "
            f"{first['level']} ({len(lost)} scored target(s) without one)"
        )
    table = table.dropna(subset=PROB_COLUMNS).reset_index(drop=True)
    table[PROB_COLUMNS] = submission_probabilities(table[PROB_COLUMNS].to_numpy(dtype=float))
    return table


def rsna_floor(labels: pd.DataFrame, truth: pd.DataFrame) -> dict:
    """The floor's score and its terms over ``labels``' targets, or why it is unavailable."""
    reason = unavailable(truth)
    if reason:
        return {"available": False, "reason": reason}
    return {"available": True, **rsna_score(floor_table(labels, truth))}
