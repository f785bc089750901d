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

from disc_grade.evaluation.metrics import RSNA_SAMPLE_WEIGHTS, weighted_log_loss
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
                "w": np.asarray(RSNA_SAMPLE_WEIGHTS)[y],
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
            loss = weighted_log_loss(
                y, rows[PROB_COLUMNS].to_numpy(dtype=float), np.asarray(RSNA_SAMPLE_WEIGHTS)[y]
            )
        out[f"{name}_log_loss"] = loss
        terms.append(loss)
    out["any_severe_spinal_log_loss"] = any_severe_spinal_loss(scored)
    terms.append(out["any_severe_spinal_log_loss"])
    out["rsna_score"] = float(np.mean(terms)) if np.isfinite(terms).all() else float("nan")
    return out


def prior_table(labels: pd.DataFrame, prior: pd.DataFrame) -> pd.DataFrame:
    """The trivial grader: every target gets its condition's training frequencies.

    Args:
        labels: ``study_id, condition, level, label`` of the targets to grade.
        prior: per ``condition`` the probabilities ``PROB_COLUMNS``.
    """
    missing = sorted(set(labels["condition"]) - set(prior["condition"]))
    if missing:
        raise ValueError(f"no prior for condition(s) {missing}")
    return labels[["study_id", "condition", "level", "label"]].merge(
        prior[["condition", *PROB_COLUMNS]], on="condition", how="left", validate="m:1"
    )


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
        counts = counts * np.asarray(RSNA_SAMPLE_WEIGHTS)
    probs = counts.to_numpy() / counts.to_numpy().sum(axis=1, keepdims=True)
    return pd.DataFrame(probs, columns=PROB_COLUMNS).assign(condition=list(CONDITIONS))[
        ["condition", *PROB_COLUMNS]
    ]


def labels_long(train: pd.DataFrame) -> pd.DataFrame:
    """``train.csv`` in long form: ``study_id, condition, level, label`` (-1 for a blank cell).

    Raises:
        ValueError: a target column is missing, or a cell holds an unknown grade (named).
    """
    from disc_grade.rsna import LEVELS, SEVERITIES, label_column

    columns = {label_column(c, lv): (c, lv) for c in CONDITIONS for lv in LEVELS}
    missing = [c for c in ["study_id", *columns] if c not in train.columns]
    if missing:
        raise ValueError(f"train.csv lacks column(s) {missing}")
    long = train[["study_id", *columns]].melt(
        id_vars="study_id", var_name="column", value_name="text"
    )
    text = long["text"].astype("string").str.strip().replace("", pd.NA)
    codes = {s: i for i, s in enumerate(SEVERITIES)}
    bad = text.notna() & ~text.isin(list(codes))
    if bad.any():
        first = long[bad].iloc[0]
        raise ValueError(
            f"train.csv: study {first['study_id']}, column {first['column']}: unknown grade "
            f"'{first['text']}' (expected one of {list(SEVERITIES)})"
        )
    return pd.DataFrame(
        {
            "study_id": long["study_id"].astype("int64"),
            "condition": long["column"].map(lambda c: columns[c][0]),
            "level": long["column"].map(lambda c: columns[c][1]),
            "label": text.map(codes).fillna(-1).astype("int64"),
        }
    )


def score_submission(submission: pd.DataFrame, train: pd.DataFrame) -> dict[str, float]:
    """The score of a ``sample_submission.csv``-shaped table against ``train.csv`` labels.

    Raises:
        ValueError: a labelled target has no submission row (the first few are named).
    """
    from disc_grade.rsna import SEVERITY_KEYS, parse_row_id

    keys = pd.DataFrame(
        [parse_row_id(r) for r in submission["row_id"]],
        columns=["study_id", "condition", "level"],
    )
    predicted = keys.assign(
        **{
            p: submission[k].to_numpy(dtype=float)
            for p, k in zip(PROB_COLUMNS, SEVERITY_KEYS, strict=True)
        }
    )
    labels = labels_long(train)
    labels = labels[labels["study_id"].isin(predicted["study_id"])]
    table = labels.merge(predicted, on=["study_id", "condition", "level"], how="left")
    absent = table[table[PROB_COLUMNS[0]].isna() & (table["label"] >= 0)]
    if len(absent):
        named = ", ".join(
            f"{r.study_id}_{r.condition}_{r.level}" for r in absent.head(3).itertuples()
        )
        raise ValueError(f"{len(absent)} labelled target(s) have no submission row, e.g. {named}")
    return rsna_score(table.dropna(subset=PROB_COLUMNS))


def split_targets(
    labels: pd.DataFrame,
    predictions: list[pd.DataFrame],
    prior: pd.DataFrame,
    variant: str,
    split: str = "test",
) -> pd.DataFrame:
    """All 25 targets of the ``split``'s studies with ``variant``'s probabilities.

    Targets without a prediction (a cell excluded by the alignment or the cropper, or a skipped
    condition) get their condition's training prior and ``graded`` False, as inference grades
    them; blank cells stay in the table with label -1 (not scored).

    Args:
        labels: ``train.csv`` in long form (``labels_long``) with each study's ``split``.
        predictions: every condition's ``predictions`` table.
        prior: ``condition_prior`` of the training split.
    """
    frames = [
        table.loc[(table["variant"] == variant) & (table["split"] == split),
                  ["study_id", "condition", "level", *PROB_COLUMNS]]
        for table in predictions
        if len(table)
    ]  # fmt: skip
    graded = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["study_id", "condition", "level", *PROB_COLUMNS])
    )
    own = labels[labels["split"] == split].reset_index(drop=True)
    table = own.merge(graded, on=["study_id", "condition", "level"], how="left", validate="1:1")
    table["graded"] = table[PROB_COLUMNS[0]].notna()
    fill = own[["condition"]].merge(prior, on="condition", how="left", validate="m:1")
    for column in PROB_COLUMNS:
        table[column] = table[column].astype(float).fillna(fill[column])
    return table


def scores_by_variant(
    labels: pd.DataFrame,
    predictions: list[pd.DataFrame],
    prior: pd.DataFrame,
    weighted: pd.DataFrame,
) -> dict:
    """The score of every variant over all 25 targets of the test studies, beside the graders
    that never look at the image: ``prior`` (the training frequencies) and ``weighted_prior``
    (the constant that minimises the 1/2/4-weighted log loss)."""
    variants = sorted({v for t in predictions if len(t) for v in t["variant"]})
    out: dict = {}
    table = None
    for variant in variants:
        table = split_targets(labels, predictions, prior, variant)
        scored = table[table["label"] >= 0]
        at_prior = scored[~scored["graded"]]
        out[variant] = {
            **rsna_score(table),
            "n_studies": int(table["study_id"].nunique()),
            "n_scored_targets": int(len(scored)),
            "n_at_prior": int(len(at_prior)),
            "n_at_prior_by_condition": {
                family: int((at_prior["condition"].map(condition_family) == family).sum())
                for family in FAMILIES
            },
        }
    if table is not None:
        keys = table.drop(columns=[c for c in table if c.startswith("p_")])
        for name, constant in (("prior", prior), ("weighted_prior", weighted)):
            out[name] = {
                **rsna_score(keys.merge(constant, on="condition")),
                "n_studies": int(table["study_id"].nunique()),
            }
    return out
