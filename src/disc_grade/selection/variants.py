"""Nodes: the grader validation chooses among the calibrated variants, out of fold where there
are study folds and with the left-out sites' log loss weighing in where there are site folds."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from disc_grade.evaluation.log_loss import weighted_log_loss
from disc_grade.evaluation.metrics import balanced_accuracy, confusion
from disc_grade.models.grading.gate import wins
from disc_grade.models.training.recipe import VARIANTS
from disc_grade.rsna import PROB_COLUMNS, RAW_PROB_COLUMNS
from disc_grade.selection.calibrate import validation_score

logger = logging.getLogger(__name__)
CRITERIA = ("log_loss", "balanced_accuracy")


def criterion(selection: dict[str, Any]) -> str:
    """``selection.by``, the criterion every choice compares candidates by (log loss unless set).

    Raises:
        ValueError: it is not one of ``CRITERIA``.
    """
    by = selection.get("by", "log_loss")
    if by not in CRITERIA:
        raise ValueError(f"selection.by must be one of {list(CRITERIA)}, got '{by}'")
    return str(by)


def validation_figures(predictions: pd.DataFrame) -> dict[str, dict]:
    """Per variant, its validation rows' balanced accuracy (the calibrated decision) and weighted
    log loss, calibrated and as the grader output it."""
    out = {}
    for variant, rows in predictions[predictions["split"] == "validation"].groupby("variant"):
        y = rows["label"].to_numpy(dtype=int)
        figures = {
            "balanced_accuracy": balanced_accuracy(confusion(y, rows["predicted"].to_numpy(int))),
            "log_loss": weighted_log_loss(y, rows[PROB_COLUMNS].to_numpy(float)),
        }
        if RAW_PROB_COLUMNS[0] in rows:
            raw = rows[RAW_PROB_COLUMNS].to_numpy(float)
            figures["log_loss_uncalibrated"] = weighted_log_loss(y, raw)
        out[str(variant)] = figures
    return out


def _weighed(
    in_site: dict[str, float], site: dict[str, dict], by: str, params: dict[str, Any]
) -> tuple[dict[str, float], dict[str, Any]]:
    """Each variant's score once the leave-site-out folds weigh in, and what they said: the
    score is ``(1 - weight)`` times the in-site one plus ``weight`` times minus its log loss on
    the left-out sites (adapted where adapting won ``confidence`` of the study resamples)."""
    weight, confidence = float(params.get("weight", 0.5)), float(params.get("confidence", 0.9))
    if not 0 <= weight <= 1:
        raise ValueError(f"leave_site_out.weight must be in [0, 1], got {weight}")
    if not site:
        why = (
            "leave_site_out.max_sites is 0"
            if params.get("max_sites", 0) == 0
            else "fewer than two training sites"
        )
        return in_site, {"used": False, "why": f"in-site validation only: {why}"}
    if by != "log_loss":
        return in_site, {"used": False, "why": "selection.by is not log_loss", "by_variant": site}
    scores, by_variant = {}, {}
    for variant, score in in_site.items():
        folds = site.get(variant)
        if folds is None:
            scores[variant] = score
            continue
        adapt = wins(folds["adapted_share_won"], confidence)
        loss = folds["log_loss_adapted"] if adapt else folds["log_loss"]
        by_variant[variant] = {**folds, "adapt_batchnorm": adapt, "log_loss_kept": loss}
        scores[variant] = (1 - weight) * score - weight * loss
    return scores, {
        "used": True,
        "why": f"{1 - weight:g} in-site validation + {weight:g} left-out sites",
        "weight": weight,
        "confidence": confidence,
        "by_variant": by_variant,
    }


def _out_of_fold(
    in_site: dict[str, float], folds: dict[str, dict], by: str
) -> tuple[dict[str, float], dict[str, Any]]:
    """Each variant's score once study folds weigh in: its out-of-fold log loss negated (or
    balanced accuracy, by ``by``) over every training and validation study, in place of the
    validation split's; what they said. Without folds, the validation split's and why."""
    if not folds:
        return in_site, {"used": False, "why": "the validation split alone: split.n_folds < 2"}
    scores = dict(in_site)
    for variant, figures in folds.items():
        if variant in scores:
            scores[variant] = (
                -figures["log_loss"] if by == "log_loss" else figures["balanced_accuracy"]
            )
    some = next(iter(folds.values()))
    return scores, {
        "used": True,
        "why": (
            f"out of fold: {some['folds']} study folds, {some['n_studies']} training and "
            "validation studies"
        ),
        "by_variant": folds,
    }


def _best(scores: dict[str, float]) -> str:
    """The variant of the highest score (NaN lowest; a tie goes to the first in ``VARIANTS``)."""
    return max(VARIANTS, key=lambda v: (np.nan_to_num(scores[v], nan=-np.inf), -VARIANTS.index(v)))


def choose_grader(
    predictions: pd.DataFrame,
    calibration: dict,
    params: dict[str, Any],
    site_scores: dict[str, dict] | None = None,
    leave_site_out: dict[str, Any] | None = None,
    fold_scores: dict[str, dict] | None = None,
) -> dict:
    """The variant validation chooses, by ``selection.by``: ``log_loss`` (calibrated, cross-
    validated by study within the validation split, so no row scores a fit it took part in) or
    ``balanced_accuracy`` (validation). ``selection.variant`` names one instead.

    With study folds (``fold_scores``: ``fold_choice.out_of_fold_scores``) the score is the
    out-of-fold one over every training and validation study instead of the validation split's.
    With leave-site-out folds (``site_scores``: ``site_choice.left_out_site_scores``) the log
    loss on sites a variant never trained on weighs in (``leave_site_out.weight``), and they
    decide whether inference adapts the chosen grader's BatchNorm to a new folder
    (``adapt_batchnorm``); without them the choice is in-site and says so.

    Raises:
        ValueError: an unknown criterion or variant, or a weight outside [0, 1].
    """
    by = criterion(params)
    figures = validation_figures(predictions)
    split_scores = {}
    for variant in VARIANTS:
        own = predictions[predictions["variant"] == variant]
        split_scores[variant] = validation_score(calibration.get(variant, {}), own, by)
    in_site, folded = _out_of_fold(split_scores, fold_scores or {}, by)
    scores, weighed = _weighed(in_site, site_scores or {}, by, leave_site_out or {})
    chosen, in_site_choice, split_choice = _best(scores), _best(in_site), _best(split_scores)
    override = params.get("variant")
    if override is not None and override not in VARIANTS:
        raise ValueError(
            f"selection.variant must be null or one of {list(VARIANTS)}, got '{override}'"
        )
    variant = override or chosen
    result = {
        "variant": variant,
        "chosen_by_validation": chosen,
        "chosen_in_site": in_site_choice,
        "chosen_on_split": split_choice,
        "by": by,
        "overridden": override is not None,
        "validation": {
            v: {
                "score": scores[v],
                "in_site_score": in_site[v],
                "split_score": split_scores[v],
                **figures.get(v, {}),
            }
            for v in VARIANTS
        },
        "out_of_fold": folded,
        "leave_site_out": weighed,
        "adapt_batchnorm": bool(
            weighed.get("by_variant", {}).get(variant, {}).get("adapt_batchnorm", False)
        ),
    }
    logger.info(
        "grader: %s (validation %s: %s; %s; %s)%s",
        result["variant"],
        by,
        {v: round(s, 4) for v, s in scores.items()},
        folded["why"],
        weighed["why"],
        " -- set by selection.variant" if override else "",
    )
    return result
