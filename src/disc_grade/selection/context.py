"""Node: the study-context head against the per-target head and the chosen grader."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from disc_grade.jsonable import json_ready
from disc_grade.models.grading.context_grading import (
    HEADS,
    KEYS,
    as_bundle,
    features_of,
    features_table,
    fit_heads,
    grader_features,
    head_raw,
    head_table,
    held_rows,
    probe,
)
from disc_grade.models.grading.gate import wins
from disc_grade.models.grading.predict import load_grader
from disc_grade.models.training.device import select_device
from disc_grade.models.training.recipe import Recipe
from disc_grade.selection.calibrate import calibrate_on_validation, validation_score
from disc_grade.selection.heads import (
    joint_site_rows,
    left_out_site_verdict,
    out_of_fold_verdict,
    site_grader_rows,
    site_veto,
    with_fold_features,
)
from disc_grade.selection.judging import Judging
from disc_grade.selection.paired import paired_on_validation, split_figures
from disc_grade.selection.site_adapted import site_features_as_shipped

logger = logging.getLogger(__name__)


def _override(params: dict[str, Any]) -> bool | None:
    """``context.use``: None (validation decides), True or False.

    Raises:
        ValueError: any other value.
    """
    use = params.get("use")
    if use not in (None, True, False):
        raise ValueError(f"context.use must be null, true or false, got {use!r}")
    return use


def _calibrated_heads(fitted, features, index, base, label_priors, calibration_params, by):
    """Each head's held-out predictions calibrated on validation, its calibration and its
    validation score; ``base`` (the chosen grader's predictions) among the tables."""
    held = held_rows(index)
    tables, calibrations, scores = {"grader": base}, {}, {}
    for name in HEADS:
        raw = head_raw(fitted, name, features, index, held)
        calibrations[name], tables[name] = calibrate_on_validation(
            head_table(base, index, held, raw, name), label_priors, calibration_params
        )
        scores[name] = validation_score(calibrations[name], tables[name], by)
    return tables, calibrations, scores


def _split_verdict(tables, methods, scores, by, params, calibration_params):
    """Whether the validation split keeps the context head: it scores above the grader and the
    per-target head and, by log loss, beats the grader in ``context.confidence`` of the study
    resamples (``paired_on_validation``, returned too; None by another criterion)."""
    kept = scores["context"] > max(scores["grader"], scores["per_target"])
    if by != "log_loss":
        return kept, None
    # a head added to the grader must win by more than the studies' noise
    paired = paired_on_validation(tables, methods, calibration_params, int(params["seed"]))
    paired["confidence"] = float(params["confidence"])
    return kept and wins(paired["share_won"], paired["confidence"]), paired


def _decision(
    split_verdict: bool, folded: dict | None, sites: dict | None, params: dict[str, Any]
) -> dict:
    """Whether the context head grades: out of fold where ``folded`` (its verdict there), else
    the validation split's verdict; where there are leave-site-out folds (``sites``), not where
    it grades the sites they left out worse than the grader does (``site_veto``);
    ``context.use`` overrides."""
    in_site = folded["kept"] if folded is not None else split_verdict
    veto = site_veto(in_site, sites)
    by_choice = in_site and not veto
    use = _override(params)
    return {
        "kept": bool(by_choice if use is None else use),
        "kept_by_validation": bool(by_choice),
        "decided_on": "out_of_fold" if folded is not None else "validation",
        "split_verdict": split_verdict,
        "out_of_fold": folded,
        "left_out_sites": sites,
        "site_veto": veto,
        "overridden": use is not None,
    }


def _fold_verdicts(
    study_folds, site_folds, chosen_grader, grader_calibration, label_priors, blocks
):
    """The context head's verdicts on the study folds' left-out rows and on the sites the
    leave-site-out folds left out (each None without such folds), and the site folds' rows the
    joint head and the stacker read (``fold_heads.joint_site_rows``), the left-out sites as
    inference would read them (adapted where the chosen grader adapts: ``site_adapted``);
    ``blocks``: the context and calibration parameter blocks."""
    params, calibration_params = blocks
    variant = chosen_grader["variant"]
    folded = out_of_fold_verdict(
        study_folds[0], variant, study_folds[1], label_priors, params, calibration_params
    )
    adapt = bool(chosen_grader.get("adapt_batchnorm", False))
    site_features, adapted = site_features_as_shipped(site_folds[0], adapt)
    site_shipped = site_grader_rows(
        site_folds[1], variant, grader_calibration, label_priors, calibration_params, adapted
    )
    sites = left_out_site_verdict(
        site_features, site_shipped, variant, label_priors, params, calibration_params
    )
    marked = None if sites is None else {**sites, "adapted": adapted}
    return folded, marked, joint_site_rows(site_features, site_shipped, variant)


def chosen_features(
    disc_rois: np.ndarray,
    roi_index: pd.DataFrame,
    grader_models: dict[str, dict],
    chosen_grader: dict,
    recipe: Recipe,
) -> pd.DataFrame:
    """The chosen grader's features of every ROI with their image statistics
    (``features_table``): what the study-context head is fitted on and the joint head reads."""
    device = select_device(recipe.network["device"])
    grader = load_grader(grader_models[chosen_grader["variant"]], recipe.network["encoder"], device)
    rois = np.asarray(disc_rois)
    index = roi_index.reset_index(drop=True)
    return features_table(grader_features(grader, rois, device), index, rois)


def grade_in_context(
    chosen_features: pd.DataFrame,
    predictions: pd.DataFrame,
    calibration: dict,
    chosen_grader: dict,
    study_fold_features: pd.DataFrame,
    out_of_fold_predictions: pd.DataFrame,
    site_fold_features: pd.DataFrame,
    site_fold_predictions: pd.DataFrame,
    label_priors: pd.DataFrame,
    judging: Judging,
) -> tuple[dict, dict, pd.DataFrame, pd.DataFrame]:
    """On the chosen grader's features of every ROI (``chosen_features``), a per-target and a
    study-context head fitted (training split, stopped on validation) and calibrated on validation; the context head
    kept as the validation split, or the study folds, say, unless the leave-site-out folds
    say it grades a new site worse than the grader (``_decision``). Returns the kept head (or
    none), every figure of the three per split, the context head's calibrated
    predictions (variant ``context``) for the held-out splits, and the chosen grader's features
    of every ROI (with the variant and the calibration method of what the
    condition ships) followed by the study and leave-site-out fold models'
    (``fold_heads.with_fold_features``): what the joint head reads and is chosen on."""
    variant = chosen_grader["variant"]
    params, calibration_params = judging.context, judging.calibration
    index = chosen_features[[*KEYS, "split", "label"]]
    features = features_of(chosen_features)
    fitted = fit_heads(features, index, params)
    base = predictions[predictions["variant"] == variant]
    by = judging.by
    tables, calibrations, scores = _calibrated_heads(
        fitted, features, index, base, label_priors, calibration_params, by
    )
    scores["grader"] = validation_score(calibration[variant], base, by)
    methods = {
        "grader": calibration[variant]["method"],
        "context": calibrations["context"]["method"],
    }
    by_validation, paired = _split_verdict(tables, methods, scores, by, params, calibration_params)
    folded, sites, site_rows = _fold_verdicts(
        (study_fold_features, out_of_fold_predictions),
        (site_fold_features, site_fold_predictions),
        chosen_grader,
        calibration[variant],
        label_priors,
        (params, calibration_params),
    )
    decision = _decision(bool(by_validation), folded, sites, params)
    kept = decision["kept"]
    metrics = {
        "variant": variant,
        "by": by,
        **decision,
        "validation_score": scores,
        "paired": paired,
        "epochs": {n: fitted["heads"][n]["epochs"] for n in HEADS},
        "calibration": {n: c["method"] for n, c in calibrations.items()},
        "feature_probe_balanced_accuracy": probe(features, index),
        "figures": {
            name: split_figures(table, judging.evaluation) for name, table in tables.items()
        },
    }
    logger.info("context: %s %s; %s -> %s", by, scores, folded or paired, "kept" if kept else "no")
    model = as_bundle(fitted, "context", calibrations["context"], params) if kept else {}
    return (
        {**model, "kept": bool(kept), "variant": variant},
        json_ready(metrics),
        tables["context"].reset_index(drop=True),
        with_fold_features(
            chosen_features.assign(
                shipped_variant=variant, shipped_method=methods["context" if kept else "grader"]
            ),
            study_fold_features,
            variant,
            site_rows,
        ),
    )
