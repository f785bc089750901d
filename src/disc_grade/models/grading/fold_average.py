"""A variant's study-fold models grading together: the mean of what each believes.

With study folds (``split.n_folds`` >= 2) every variant is trained once per fold on the other
folds' studies and calibrated on their validation studies. The fold models' average grades the
test studies and inference (``selection.fold_average``), as the best RSNA solutions ship their
fold models. Each fold model's table is calibrated by its own calibration first
(``decision.calibrated_table``); then the tables are averaged here:

- the grader's own probabilities (``raw_*``): their mean;
- the submitted probabilities (``PROB_COLUMNS``): their mean, whose weighted log loss is never
  above the fold models' mean (the loss is convex in them);
- the grade: the variant's rule (``decision.DECISIONS``) on the means: the mean raw
  probabilities' argmax (``grader``), or the posterior behind the mean submitted probabilities
  over the training frequencies (``posterior``);
- the localisation head's point: its mean.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from disc_grade.evaluation.log_loss import posterior_of_submission
from disc_grade.models.grading.decision import DECISIONS, decide
from disc_grade.rsna import PROB_COLUMNS, RAW_PROB_COLUMNS

KEYS = ["study_id", "condition", "level"]
POINTS = ["point_x_pred", "point_y_pred"]


def _mean(tables: list[pd.DataFrame], columns: list[str]) -> np.ndarray:
    return np.mean([t[columns].to_numpy(dtype=float) for t in tables], axis=0)


def averaged_table(tables: list[pd.DataFrame], rule: str, priors: np.ndarray) -> pd.DataFrame:
    """The fold models' calibrated tables of the same rows (in the same order) as one table.

    Args:
        tables: one per fold model, each ``calibrated_table``'s output.
        rule: the variant's decision rule (``grader`` or ``posterior``).
        priors: [n, 3] each row's training frequencies (``decision.row_priors``).

    Raises:
        ValueError: no table, tables of different rows, uncalibrated tables or an unknown rule.
    """
    if not tables:
        raise ValueError("averaged_table: no fold model's table to average")
    if rule not in DECISIONS:
        raise ValueError(f"averaged_table: rule '{rule}' is not one of {list(DECISIONS)}")
    first = tables[0].reset_index(drop=True)
    for k, table in enumerate(tables[1:], start=1):
        if not table[KEYS].reset_index(drop=True).equals(first[KEYS]):
            raise ValueError(f"averaged_table: fold model {k} graded other rows than fold model 0")
    if any(RAW_PROB_COLUMNS[0] not in t for t in tables):
        raise ValueError("averaged_table: every fold model's table must be calibrated first")
    raw, submitted = _mean(tables, RAW_PROB_COLUMNS), _mean(tables, PROB_COLUMNS)
    grades = (
        raw.argmax(axis=1)
        if rule == "grader"
        else decide(posterior_of_submission(submitted), priors)
    )
    out = first.assign(
        **dict(zip(RAW_PROB_COLUMNS, raw.T, strict=True)),
        **dict(zip(PROB_COLUMNS, submitted.T, strict=True)),
        raw_predicted=raw.argmax(axis=1).astype(np.int64),
        predicted=np.asarray(grades, dtype=np.int64),
    )
    points = [c for c in POINTS if all(c in t for t in tables)]
    if points:
        out[points] = _mean(tables, points)
    return out
