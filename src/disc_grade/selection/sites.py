"""Nodes: what the leave-site-out folds (``models.training.folds``, read back by
``fold_cells``) say of each candidate: its log loss on sites it never trained on, as trained and
with BatchNorm adapted."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from disc_grade.evaluation.log_loss import weighted_log_loss
from disc_grade.models.grading.calibration import paired_gain
from disc_grade.rsna import PROB_COLUMNS
from disc_grade.selection.judging import Judging
from disc_grade.selection.out_of_fold import left_out_by_variant, out_of_fold_scores
from disc_grade.selection.variants import choose_grader

logger = logging.getLogger(__name__)


def left_out_site_scores(
    site_fold_predictions: pd.DataFrame,
    label_priors: pd.DataFrame,
    calibration: dict[str, Any],
    evaluation: dict[str, Any],
    fitted: dict[str, dict] | None = None,
) -> dict[str, dict]:
    """Per variant, the calibrated weighted log loss of its fold models on the sites they left
    out, as trained and adapted, and the share of study resamples in which adapting lowered it;
    each fold model calibrated by the variant's method and rule (``fitted``, where given).
    Empty without folds."""
    scores = {}
    by_variant = left_out_by_variant(
        site_fold_predictions, "site", label_priors, calibration, fitted
    )
    for variant, plain, adapted in by_variant:
        folds = site_fold_predictions[site_fold_predictions["variant"] == variant]
        keys = ["study_id", "condition", "level"]
        plain, adapted = (t.sort_values(keys, ignore_index=True) for t in (plain, adapted))
        if not plain[keys].equals(adapted[keys]):
            raise ValueError(f"site_fold_predictions[{variant}]: adapted rows differ from plain")
        labels = plain["label"].to_numpy(dtype=int)
        p_plain = plain[PROB_COLUMNS].to_numpy(float)
        p_adapted = adapted[PROB_COLUMNS].to_numpy(float)
        gain = paired_gain(
            p_adapted,
            p_plain,
            labels,
            plain["study_id"].to_numpy(),
            int(evaluation.get("n_resamples", 1000)),
            int(evaluation.get("seed", 0)),
        )
        scores[str(variant)] = {
            "sites": sorted(folds["fold_site"].astype(str).unique().tolist()),
            "n_targets": int(len(plain)),
            "n_studies": int(plain["study_id"].nunique()),
            "log_loss": weighted_log_loss(labels, p_plain),
            "log_loss_adapted": weighted_log_loss(labels, p_adapted),
            "adapted_share_won": gain["share_won"],
        }
        logger.info(
            "leave-site-out[%s]: log loss %.4f as trained, %.4f adapted (adapting won %.0f%% of "
            "study resamples) on %d targets of %s",
            variant,
            scores[str(variant)]["log_loss"],
            scores[str(variant)]["log_loss_adapted"],
            100 * gain["share_won"],
            len(plain),
            scores[str(variant)]["sites"],
        )
    return scores


def choose_across_sites(
    predictions: pd.DataFrame,
    calibration: dict,
    site_fold_predictions: pd.DataFrame,
    study_fold_predictions: pd.DataFrame,
    label_priors: pd.DataFrame,
    judging: Judging,
) -> dict:
    """The grader validation chooses (``variants.choose_grader``): out of fold where there are
    study folds, the left-out sites' log loss weighing in where there are site folds; with
    whether its study-fold models' average ships (``fold_average_setting``)."""
    scores = left_out_site_scores(
        site_fold_predictions, label_priors, judging.calibration, judging.evaluation, calibration
    )
    fold_scores = out_of_fold_scores(
        study_fold_predictions, label_priors, judging.calibration, calibration
    )
    selection = judging.selection
    chosen = choose_grader(
        predictions, calibration, selection, scores, judging.leave_site_out, fold_scores
    )
    return {**chosen, **fold_average_setting(selection, fold_scores)}


def fold_average_setting(selection: dict[str, Any], fold_scores: dict[str, dict]) -> dict:
    """``fold_average``: whether the chosen variant's study-fold models, averaged, grade the test
    studies and inference (``selection.fold_average``, true by default, where there are study
    folds), rather than the grader trained on the whole training split; ``n_folds``: how many.

    Raises:
        ValueError: ``selection.fold_average`` is not true or false.
    """
    setting = selection.get("fold_average", True)
    if not isinstance(setting, bool):
        raise ValueError(f"selection.fold_average must be true or false, got {setting!r}")
    n_folds = max((int(s.get("folds", 0)) for s in fold_scores.values()), default=0)
    return {"fold_average": bool(setting and n_folds >= 2), "n_folds": n_folds}
