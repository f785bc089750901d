"""The RSNA 2024 competition score over all 25 targets, from a long prediction table.

The competition's metric, term by term:

- one sample-weighted log loss per condition family (spinal; foraminal, left and right
  pooled; subarticular, left and right pooled), sample weights 1/2/4 by the true class,
  each row renormalised to sum to one and clipped as scikit-learn's ``log_loss`` does;
- ``any_severe_spinal``: per study, the largest submitted P(Severe) over its spinal levels
  against whether any spinal level is Severe, weighted by the study's largest spinal sample
  weight (4 with a Severe level, else 2 or 1);
- the score: the unweighted mean of those four terms (lower is better).

Cells without a label (blank in ``train.csv``) are not scored, as in the competition.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from disc_grade.evaluation.log_loss import WEIGHTS, weighted_log_loss
from disc_grade.rsna import CONDITIONS, FAMILIES, PROB_COLUMNS, SPINAL, condition_family

SCORE_COLUMNS = ("study_id", "condition", "level", "label", *PROB_COLUMNS)


def _check(table: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in SCORE_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"the RSNA score needs column(s) {missing}; got {list(table.columns)}")
    unknown = sorted(set(table["condition"]) - set(CONDITIONS))
    if unknown:
        raise ValueError(f"unknown condition(s) {unknown}; expected {list(CONDITIONS)}")
    probs = table[PROB_COLUMNS].to_numpy(dtype=float)
    if not np.isfinite(probs).all() or (probs < 0).any():
        raise ValueError("the RSNA score needs finite, non-negative probabilities")
    scored = table[table["label"].notna() & (table["label"] >= 0)].copy()
    scored["label"] = scored["label"].astype(int)
    if not scored["label"].isin([0, 1, 2]).all():
        raise ValueError("labels must be 0 (Normal/Mild), 1 (Moderate) or 2 (Severe)")
    return scored


def any_severe_spinal_loss(table: pd.DataFrame) -> float:
    """Per study: max submitted P(Severe) over spinal levels vs any Severe spinal level."""
    spinal = table[table["condition"] == SPINAL]
    if spinal.empty:
        return float("nan")
    y = spinal["label"].to_numpy(dtype=int)
    per_study = (
        pd.DataFrame(
            {
                "study_id": spinal["study_id"].to_numpy(),
                "p": spinal["p_severe"].to_numpy(dtype=float),
                "severe": y == 2,
                "w": WEIGHTS[y],
            }
        )
        .groupby("study_id")
        .agg(p=("p", "max"), severe=("severe", "any"), w=("w", "max"))
    )
    p = np.clip(per_study["p"].to_numpy(), 0.0, 1.0)
    binary = np.stack([1 - p, p], axis=1)
    return weighted_log_loss(
        per_study["severe"].to_numpy(dtype=int), binary, per_study["w"].to_numpy()
    )


def rsna_score(table: pd.DataFrame) -> dict[str, float]:
    """The competition score and its terms over a long table of scored targets.

    Args:
        table: one row per (study, condition, level) with ``label`` (0/1/2; NaN or -1 for a
            blank cell, not scored) and the probabilities ``PROB_COLUMNS``.

    Returns:
        ``<family>_log_loss`` per family, ``any_severe_spinal_log_loss``, ``rsna_score`` (NaN
        when a family has no scored row), and ``n_<family>`` counts.

    Raises:
        ValueError: a column is missing, a condition or label is unknown, or a probability is
            negative or not finite.
    """
    scored = _check(table)
    family = scored["condition"].map(condition_family)
    out: dict[str, float] = {}
    terms = []
    for name in FAMILIES:
        rows = scored[family == name]
        out[f"n_{name}"] = float(len(rows))
        if rows.empty:
            loss = float("nan")
        else:
            y = rows["label"].to_numpy(dtype=int)
            loss = weighted_log_loss(y, rows[PROB_COLUMNS].to_numpy(dtype=float))
        out[f"{name}_log_loss"] = loss
        terms.append(loss)
    out["any_severe_spinal_log_loss"] = any_severe_spinal_loss(scored)
    terms.append(out["any_severe_spinal_log_loss"])
    out["rsna_score"] = float(np.mean(terms)) if np.isfinite(terms).all() else float("nan")
    return out


def condition_prior(labels: pd.DataFrame, weighted: bool = False) -> pd.DataFrame:
    """Per condition, the class frequencies of ``labels`` (a training split), add-one smoothed.

    With ``weighted`` the frequencies are multiplied by the sample weights 1/2/4 and
    renormalised: the constant that minimises the weighted log loss, the strongest grader
    that does not look at the image.
    """
    scored = labels[labels["label"].notna() & (labels["label"] >= 0)]
    counts = (
        pd.crosstab(scored["condition"], scored["label"].astype(int))
        .reindex(index=list(CONDITIONS), columns=[0, 1, 2], fill_value=0)
        .fillna(0)
        + 1.0
    )
    if weighted:
        counts = counts * WEIGHTS
    probs = counts.to_numpy() / counts.to_numpy().sum(axis=1, keepdims=True)
    return pd.DataFrame(probs, columns=PROB_COLUMNS).assign(condition=list(CONDITIONS))[
        ["condition", *PROB_COLUMNS]
    ]
