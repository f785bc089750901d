"""Figures for the foraminal and subarticular families, and the 25-target table the RSNA score reads.

A family's predictions hold two conditions (left, right) per level. The family's figures pool
both sides, as the competition pools them; each side also gets its balanced accuracy with a
study-resampled interval. The spinal-only terms of ``evaluate_split`` (its RSNA spinal score)
are left out here: the full score is computed once over all 25 targets.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from disc_grade.evaluation.metrics import (
    RSNA_SAMPLE_WEIGHTS,
    bootstrap_by_study,
    evaluate_split,
    weighted_log_loss,
)
from disc_grade.rsna import PROB_COLUMNS, SPINAL

SPINAL_ONLY = ("spinal_log_loss", "any_severe_log_loss", "rsna_spinal_score")


def family_split_metrics(
    table: pd.DataFrame, n_resamples: int, seed: int, n_bins: int
) -> dict[str, float]:
    """One variant on one split of a family: pooled figures plus each side's balanced accuracy."""
    out = {k: v for k, v in evaluate_split(table, n_resamples, seed, n_bins).items()}
    for key in SPINAL_ONLY:
        out.pop(key, None)
    y = table["label"].to_numpy(dtype=int)
    out["family_log_loss"] = weighted_log_loss(
        y, table[PROB_COLUMNS].to_numpy(dtype=float), np.asarray(RSNA_SAMPLE_WEIGHTS)[y]
    )
    for condition, rows in table.groupby("condition", sort=True):
        side = evaluate_split(rows, n_resamples=1, seed=seed, n_bins=n_bins)["balanced_accuracy"]
        low, high = bootstrap_by_study(rows, n_resamples, seed)["balanced_accuracy"]
        out[f"balanced_accuracy_{condition}"] = side
        out[f"balanced_accuracy_{condition}_ci_low"] = low
        out[f"balanced_accuracy_{condition}_ci_high"] = high
    return out


def split_targets(
    labels: pd.DataFrame,
    predictions: list[pd.DataFrame],
    prior: pd.DataFrame,
    variant: str,
    split: str = "test",
) -> pd.DataFrame:
    """All 25 targets of the ``split``'s studies with ``variant``'s probabilities.

    Targets without a prediction (a cell excluded by the alignment or the cropper) get their
    condition's training prior and ``graded`` False, as inference would grade them; blank cells
    stay in the table with label -1 (not scored).

    Args:
        labels: ``train.csv`` in long form (``rsna_score.labels_long``).
        predictions: the spinal ``predictions`` (no ``condition`` column) and each family's.
        prior: ``rsna_score.condition_prior`` of the training split.
    """
    frames = []
    for table in predictions:
        own = table[(table["variant"] == variant) & (table["split"] == split)]
        if "condition" not in own:
            own = own.assign(condition=SPINAL)
        frames.append(own[["study_id", "condition", "level", *PROB_COLUMNS]])
    graded = pd.concat(frames, ignore_index=True)
    studies = set(graded["study_id"])
    labels = labels[labels["study_id"].isin(studies)].reset_index(drop=True)
    table = labels.merge(graded, on=["study_id", "condition", "level"], how="left", validate="1:1")
    table["graded"] = table[PROB_COLUMNS[0]].notna()
    fill = labels[["condition"]].merge(prior, on="condition", how="left", validate="m:1")
    for column in PROB_COLUMNS:
        table[column] = table[column].fillna(fill[column])
    return table
