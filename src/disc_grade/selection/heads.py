"""A head that reads a grader's features (the joint head) judged out of fold: its fold rows
(``models.grading.fold_heads``) calibrated per fold on the fold's validation rows, then its
left-out rows compared with what the condition ships, graded out of fold too; and the tables
that carry the fold models' features and the leave-site-out folds' rows to the joint stage."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from disc_grade.evaluation.log_loss import weighted_log_loss
from disc_grade.models.grading.calibration import paired_gain
from disc_grade.models.grading.context_grading import KEYS
from disc_grade.models.grading.fold_heads import FOLD
from disc_grade.models.grading.gate import gate
from disc_grade.models.training.fold_plan import FOLD_OUT, SITE_OUT
from disc_grade.rsna import PROB_COLUMNS
from disc_grade.selection.out_of_fold import as_shipped, calibrated_left_out

SHIPPED_ROWS = -1  # ``fold_left_out`` of the shipped grader's rows in ``joint_features``
SITE_ROWS = -2  # ``fold_left_out`` of the leave-site-out fold models' rows there
SITE_SHIPPED = [f"site_grader_{c}" for c in PROB_COLUMNS]  # the fold's grader on its left-out site


def judged_out_of_fold(
    head_rows: pd.DataFrame,
    shipped: pd.DataFrame,
    label_priors: pd.DataFrame,
    calibration: dict[str, Any],
    seed: int,
    confidence: float,
) -> dict | None:
    """The head's left-out rows, calibrated per fold on its validation rows (``calibration``:
    the head's block), against ``shipped`` (the condition's ``out_of_fold_predictions``) on the
    targets both grade: the weighted log loss of each, the gain and the share of study
    resamples the head wins (``paired_gain``), and ``kept`` (won in ``confidence`` of them).
    None where either has no row.
    """
    if head_rows.empty or shipped.empty:
        return None
    rows = head_rows.assign(adapted=False)
    plain, _ = calibrated_left_out(rows, "study", label_priors, calibration)
    both = plain.merge(
        shipped[[*KEYS, *PROB_COLUMNS]], on=KEYS, suffixes=("", "_shipped"), validate="1:1"
    )
    if both.empty:
        return None
    labels = both["label"].to_numpy(dtype=int)
    head = both[PROB_COLUMNS].to_numpy(dtype=float)
    given = both[[f"{c}_shipped" for c in PROB_COLUMNS]].to_numpy(dtype=float)
    paired = paired_gain(head, given, labels, both["study_id"].to_numpy(), seed=seed)
    return {
        **gate(paired, confidence),
        "head_log_loss": weighted_log_loss(labels, head),
        "shipped_log_loss": weighted_log_loss(labels, given),
        "n_studies": int(both["study_id"].nunique()),
        "n_targets": int(len(both)),
        "folds": int(head_rows[FOLD].nunique()),
    }


def with_fold_features(
    shipped: pd.DataFrame,
    study_fold_features: pd.DataFrame,
    variant: str,
    site_rows: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The shipped grader's ``features_table`` (``fold_left_out`` ``SHIPPED_ROWS``) followed by
    the fold models' features of the same variant (their ``fold_left_out``) and, where given,
    the leave-site-out fold models' (``site_rows``, ``joint_site_rows``): what the joint stage
    reads."""
    parts = [shipped.assign(**{FOLD: SHIPPED_ROWS})]
    folds = study_fold_features
    if not folds.empty and "variant" in folds:
        parts.append(folds[folds["variant"] == variant].drop(columns="variant"))
    if site_rows is not None and not site_rows.empty:
        parts.append(site_rows)
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def split_fold_features(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A ``joint_features`` table split into the shipped grader's rows and the study fold
    models' (the leave-site-out rows apart: ``site_fold_parts``)."""
    if FOLD not in table:
        return table, table.iloc[:0]
    folds = table[FOLD].to_numpy(dtype=np.int64)
    site_columns = [c for c in ("fold_site", *SITE_SHIPPED) if c in table]
    shipped = table[folds == SHIPPED_ROWS].drop(columns=[FOLD, *site_columns])
    fold_rows = table[(folds != SHIPPED_ROWS) & (folds != SITE_ROWS)]
    fold_rows = fold_rows.drop(columns=site_columns).dropna(axis=1, how="all")
    return shipped.reset_index(drop=True), fold_rows.reset_index(drop=True)


def joint_site_rows(
    site_fold_features: pd.DataFrame, site_shipped: pd.DataFrame, variant: str
) -> pd.DataFrame:
    """``variant``'s leave-site-out fold features (``fold_left_out`` ``SITE_ROWS``, with
    ``fold_site``), the left-out site's rows carrying what the fold's grader gives them
    (``site_shipped``, ``site_grader_rows``) as ``SITE_SHIPPED``: what the joint head's choice
    reads to see a new site. Empty without site folds."""
    if site_fold_features.empty or "variant" not in site_fold_features or site_shipped.empty:
        return pd.DataFrame()
    own = site_fold_features[site_fold_features["variant"] == variant].drop(columns="variant")
    given = site_shipped[[*KEYS, *PROB_COLUMNS]].rename(
        columns=dict(zip(PROB_COLUMNS, SITE_SHIPPED, strict=True))
    )
    out = own[own["split"] == SITE_OUT].merge(given, on=KEYS, how="left", validate="1:1")
    return pd.concat([own[own["split"] != SITE_OUT], out], ignore_index=True).assign(
        **{FOLD: SITE_ROWS}
    )


def site_fold_parts(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A ``joint_features`` table's leave-site-out rows (``joint_site_rows``) split into the fold
    models' features (with ``fold_site``) and what each fold's grader gives its left-out site
    (``predictions``-shaped, calibrated); both empty without them."""
    if FOLD not in table or not (table[FOLD].to_numpy(dtype=np.int64) == SITE_ROWS).any():
        return table.iloc[:0], table.iloc[:0]
    rows = table[table[FOLD].to_numpy(dtype=np.int64) == SITE_ROWS].drop(columns=FOLD)
    features = rows.drop(columns=SITE_SHIPPED).dropna(axis=1, how="all")
    given = rows[rows["split"] == SITE_OUT][[*KEYS, "split", "label", *SITE_SHIPPED]]
    given = given.rename(columns=dict(zip(SITE_SHIPPED, PROB_COLUMNS, strict=True)))
    return features.reset_index(drop=True), given.reset_index(drop=True)


def site_veto(in_site: bool, sites: dict | None) -> bool:
    """Whether the leave-site-out folds drop a head kept in-site: it grades the sites they left
    out worse than the grader does (a negative ``gain`` there)."""
    return bool(in_site and sites is not None and (sites.get("gain") or 0.0) < 0)


def as_study_folds(
    site_fold_features: pd.DataFrame, sites: list[str] | None = None
) -> pd.DataFrame:
    """Leave-site-out fold features in the study folds' form (``fold_left_out`` the fold's
    number in ``sites``, by default its own sites in order; the left-out site's rows split
    ``FOLD_OUT``), so that a head is fitted and judged on them as on study folds."""
    sites = sites or sorted(site_fold_features["fold_site"].astype(str).unique())
    number = {site: k for k, site in enumerate(sites)}
    split = site_fold_features["split"].astype(str).replace({SITE_OUT: FOLD_OUT})
    return site_fold_features.assign(
        **{FOLD: site_fold_features["fold_site"].astype(str).map(number), "split": split}
    ).drop(columns="fold_site")


def site_grader_rows(
    site_fold_predictions: pd.DataFrame,
    variant: str,
    grader_calibration: dict,
    label_priors: pd.DataFrame,
    calibration_params: dict[str, Any],
    adapted: bool = False,
) -> pd.DataFrame:
    """``variant``'s leave-site-out fold models on the sites they left out, each calibrated on its
    fold's validation rows as the grader ships (``grader_calibration``), as trained or, where
    ``adapted``, with BatchNorm adapted to the site; empty without site folds."""
    if site_fold_predictions.empty or "variant" not in site_fold_predictions:
        return pd.DataFrame()
    own = site_fold_predictions[site_fold_predictions["variant"] == variant]
    if own.empty:
        return pd.DataFrame()
    params = as_shipped(calibration_params, grader_calibration)
    shipped, adapted_rows = calibrated_left_out(own, "site", label_priors, params)
    return adapted_rows if adapted else shipped
