"""A head against the grader it would replace, on the validation split: each cross-validated by
study with its own calibration method, then compared study resample by study resample
(``models.grading.calibration.paired_gain``); the joint head is judged so
(``models.grading.gate`` gives the verdict)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from disc_grade.evaluation.metrics import evaluate_split
from disc_grade.models.grading.calibration import cross_validated_probabilities, paired_gain
from disc_grade.rsna import RAW_PROB_COLUMNS

KEYS = ["study_id", "condition", "level"]


def split_figures(table: pd.DataFrame, evaluation: dict[str, Any]) -> dict[str, dict]:
    """``evaluate_split``'s figures of every split of one grader's ``table``."""
    return {
        split: evaluate_split(
            rows, int(evaluation["n_resamples"]), int(evaluation["seed"]), int(evaluation["n_bins"])
        )
        for split, rows in table.groupby("split", sort=True)
    }


def paired_on_validation(
    tables: dict[str, pd.DataFrame], methods: dict[str, str], params: dict[str, Any], seed: int
) -> dict:
    """The head's (``context``: the attention head) weighted log loss against the chosen
    grader's on the validation targets both grade, each cross-validated by study with its own
    calibration method (``models.calibration.paired_gain``: the gain and the share of study
    resamples it wins)."""
    val = {n: tables[n][tables[n]["split"] == "validation"] for n in ("grader", "context")}
    both = val["grader"][KEYS].merge(val["context"][KEYS], on=KEYS)
    probabilities = {}
    folds = max(2, min(int(params["folds"]), both["study_id"].nunique()))
    labels = both.merge(val["grader"], on=KEYS, validate="1:1")["label"].to_numpy(int)
    for name, rows in val.items():
        rows = both.merge(rows, on=KEYS, how="left", validate="1:1")
        probabilities[name] = cross_validated_probabilities(
            rows[RAW_PROB_COLUMNS].to_numpy(float),
            labels,
            rows["study_id"].to_numpy(),
            methods[name],
            float(params["l2"]),
            folds,
        )
    return paired_gain(
        probabilities["context"],
        probabilities["grader"],
        labels,
        both["study_id"].to_numpy(),
        seed=seed,
    )
