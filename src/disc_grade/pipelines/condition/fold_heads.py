"""A head that reads a grader's features (study context, joint) judged out of fold: its fold
rows (``models.grading.fold_heads``) calibrated per fold on the fold's validation rows, then its
left-out rows compared with what the condition ships, graded out of fold too; and, where there
are leave-site-out folds, the same on the sites its folds left out (``left_out_site_verdict``)."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from disc_grade.evaluation.log_loss import weighted_log_loss
from disc_grade.models.grading.calibration import paired_gain
from disc_grade.models.grading.context_grading import KEYS
from disc_grade.models.grading.fold_heads import FOLD, context_out_of_fold, too_small
from disc_grade.models.training.site_folds import SITE_OUT
from disc_grade.models.training.study_folds import FOLD_OUT
from disc_grade.pipelines.condition.fold_choice import as_shipped, calibrated_left_out
from disc_grade.rsna import PROB_COLUMNS

logger = logging.getLogger(__name__)
SHIPPED_ROWS = -1  # ``fold_left_out`` of the shipped grader's rows in ``joint_features``


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
    plain, _ = calibrated_left_out(rows, FOLD, FOLD_OUT, label_priors, calibration)
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
        **paired,
        "head_log_loss": weighted_log_loss(labels, head),
        "shipped_log_loss": weighted_log_loss(labels, given),
        "n_studies": int(both["study_id"].nunique()),
        "n_targets": int(len(both)),
        "folds": int(head_rows[FOLD].nunique()),
        "confidence": float(confidence),
        "kept": bool(paired["share_won"] >= confidence),
    }


def with_fold_features(
    shipped: pd.DataFrame, study_fold_features: pd.DataFrame, variant: str
) -> pd.DataFrame:
    """The shipped grader's ``features_table`` (``fold_left_out`` ``SHIPPED_ROWS``) followed by
    the fold models' features of the same variant (their ``fold_left_out``): what the joint
    stage reads."""
    folds = study_fold_features
    if folds.empty or "variant" not in folds:
        return shipped.assign(**{FOLD: SHIPPED_ROWS})
    folds = folds[folds["variant"] == variant].drop(columns="variant")
    return pd.concat([shipped.assign(**{FOLD: SHIPPED_ROWS}), folds], ignore_index=True)


def split_fold_features(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A ``joint_features`` table split into the shipped grader's rows and the fold models'."""
    if FOLD not in table:
        return table, table.iloc[:0]
    folds = table[FOLD].to_numpy(dtype=np.int64)
    shipped = table[folds == SHIPPED_ROWS].drop(columns=FOLD).reset_index(drop=True)
    fold_rows = table[folds != SHIPPED_ROWS].dropna(axis=1, how="all").reset_index(drop=True)
    return shipped, fold_rows


def out_of_fold_verdict(
    fold_features: pd.DataFrame,
    variant: str,
    shipped: pd.DataFrame,
    label_priors: pd.DataFrame,
    params: dict[str, Any],
    calibration_params: dict[str, Any],
) -> dict | None:
    """The context head fitted per study fold on ``variant``'s rows of ``fold_features``
    (``models.grading.fold_heads``), judged on its left-out rows against the grader's
    out-of-fold rows ``shipped`` (``fold_heads.judged_out_of_fold``); None without folds."""
    if fold_features.empty or "variant" not in fold_features:
        return None
    own = fold_features[fold_features["variant"] == variant]
    if reason := too_small(own):
        logger.warning("context: not chosen out of fold, %s; the validation split decides", reason)
        return None
    rows = context_out_of_fold(own, params)
    return judged_out_of_fold(
        rows,
        shipped,
        label_priors,
        calibration_params,
        int(params["seed"]),
        float(params["confidence"]),
    )


def as_study_folds(site_fold_features: pd.DataFrame) -> pd.DataFrame:
    """Leave-site-out fold features in the study folds' form (``fold_left_out`` the fold's
    number in site order, the left-out site's rows split ``FOLD_OUT``), so that a head is
    fitted and judged on them as on study folds."""
    sites = sorted(site_fold_features["fold_site"].astype(str).unique())
    number = {site: k for k, site in enumerate(sites)}
    split = site_fold_features["split"].astype(str).replace({SITE_OUT: FOLD_OUT})
    return site_fold_features.assign(
        **{FOLD: site_fold_features["fold_site"].astype(str).map(number), "split": split}
    ).drop(columns="fold_site")


def left_out_site_verdict(
    site_fold_features: pd.DataFrame,
    site_fold_predictions: pd.DataFrame,
    variant: str,
    grader_calibration: dict,
    label_priors: pd.DataFrame,
    params: dict[str, Any],
    calibration_params: dict[str, Any],
) -> dict | None:
    """The context head fitted per leave-site-out fold on ``variant``'s fold features (the other
    sites' training rows) and judged on the site the fold left out against that fold's grader
    on the same rows, calibrated as the grader ships (``grader_calibration``), not adapted
    (``judged_out_of_fold``, with ``sites``). None without site folds or where a fold is too
    small to fit a head on."""
    if site_fold_features.empty or "variant" not in site_fold_features:
        return None
    variant_rows = site_fold_features[site_fold_features["variant"] == variant]
    own = as_study_folds(variant_rows)
    if own.empty or (reason := too_small(own)):
        logger.warning("context: not judged on the left-out sites, %s", reason or "no fold")
        return None
    shipped, _ = calibrated_left_out(
        site_fold_predictions[site_fold_predictions["variant"] == variant],
        "fold_site",
        SITE_OUT,
        label_priors,
        as_shipped(calibration_params, grader_calibration),
    )
    verdict = judged_out_of_fold(
        context_out_of_fold(own, params),
        shipped,
        label_priors,
        calibration_params,
        int(params["seed"]),
        float(params["confidence"]),
    )
    if verdict is not None:
        verdict["sites"] = sorted(variant_rows["fold_site"].astype(str).unique())
    return verdict
