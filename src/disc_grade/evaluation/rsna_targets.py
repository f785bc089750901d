"""The 25 targets of a split's studies with a grader's probabilities, and what scores them.

``train.csv`` in long form, the table of every target of the test studies (graded, or at the
training prior), the scores of every variant beside the graders that never look at the image,
and the score of a ``sample_submission.csv``-shaped table.
"""

from __future__ import annotations

import pandas as pd

from disc_grade.evaluation.rsna_score import rsna_score
from disc_grade.rsna import CONDITIONS, FAMILIES, PROB_COLUMNS, condition_family


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
        table.loc[
            (table["variant"] == variant) & (table["split"] == split),
            ["study_id", "condition", "level", *PROB_COLUMNS],
        ]
        for table in predictions
        if len(table)
    ]
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
    weighted: pd.DataFrame,
    split: str = "test",
) -> dict:
    """The score of every variant over all 25 targets of the ``split``'s studies (``chosen``
    among them where the tables hold it: each condition as inference grades it).

    Targets no condition graded carry ``weighted`` (the training frequencies weighed by 1/2/4,
    the constant with the lowest weighted log loss, as a calibrated grader's probabilities are)
    and are counted per family.
    """
    candidates = {
        v: predictions for v in sorted({v for t in predictions if len(t) for v in t["variant"]})
    }
    out: dict = {}
    for variant, tables in candidates.items():
        table = split_targets(labels, tables, weighted, variant, split)
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
    return out


def constant_scores(
    labels: pd.DataFrame, prior: pd.DataFrame, weighted: pd.DataFrame, split: str = "test"
) -> dict:
    """The graders that never look at the image, over the ``split``'s targets: ``prior`` (the
    training frequencies) and ``weighted_prior`` (the best constant under the 1/2/4 weights)."""
    keys = labels[labels["split"] == split]
    return {
        name: {
            **rsna_score(keys.merge(constant, on="condition")),
            "n_studies": int(keys["study_id"].nunique()),
        }
        for name, constant in (("prior", prior), ("weighted_prior", weighted))
    }
