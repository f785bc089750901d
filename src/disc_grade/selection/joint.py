"""Node: the joint head over a study's targets of every condition, kept per condition where
validation says so."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from disc_grade.conditions import CONDITION_NAMES, SPECS
from disc_grade.jsonable import json_ready
from disc_grade.models.grading.context_grading import head_table, held_rows
from disc_grade.models.grading.fold_heads import joint_out_of_fold
from disc_grade.models.grading.gate import wins
from disc_grade.models.grading.joint import as_bundle, fit_joint, joint_raw
from disc_grade.models.grading.novelty import as_tensors, fit_novelty, flag_rates, novelty
from disc_grade.selection.calibrate import calibrate_on_validation
from disc_grade.selection.heads import site_veto, split_fold_features
from disc_grade.selection.joint_sites import (
    foldable,
    judged_condition,
    left_out_site_verdicts,
)
from disc_grade.selection.out_of_fold import OUT_OF_FOLD
from disc_grade.selection.paired import paired_on_validation, split_figures

logger = logging.getLogger(__name__)


def _unlike_training(features: dict[str, pd.DataFrame], params: dict[str, Any]):
    """The novelty warning fitted on the training studies, its threshold set on validation
    (``models.grading.novelty``), as tensors, and its flag rate per split."""
    own = params["novelty"]
    found = fit_novelty(
        features,
        int(own["n_components"]),
        float(own["false_rate"]),
        float(own["confidence"]),
    )
    rates = flag_rates(novelty(found, features))
    logger.info(
        "novelty: threshold %.2f (rank %d of %d validation studies); flagged %s",
        found["threshold"],
        found["rule"]["rank"],
        found["rule"]["n_validation"],
        {k: f"{100 * v['flagged']:.0f}%" for k, v in rates.items()},
    )
    summary = {"threshold": found["threshold"], "rule": found["rule"], "by_split": rates}
    return as_tensors(found), summary


def shipped_of(features: pd.DataFrame) -> dict:
    """The variant and the calibration method of what a condition ships (its features table)."""
    return {
        "variant": str(features["shipped_variant"].iloc[0]),
        "method": str(features["shipped_method"].iloc[0]),
    }


def _decide(own: dict, paired: dict, params: dict[str, Any]) -> bool:
    """Kept where its log loss (``paired``: out of fold, else on the validation split) beats what
    the condition ships in ``confidence`` of the study resamples, unless it grades the sites the
    leave-site-out folds left out (``own["left_out_sites"]``) worse than their graders
    (``site_veto``); ``joint.use`` true or false overrides.

    Raises:
        ValueError: ``joint.use`` is not null, true or false.
    """
    use = params.get("use")
    if use not in (None, True, False):
        raise ValueError(f"joint.use must be null, true or false, got {use!r}")
    in_site = wins(paired["share_won"], params["confidence"])
    own["site_veto"] = site_veto(in_site, own.get("left_out_sites"))
    own["kept_by_validation"] = in_site and not own["site_veto"]
    own["overridden"] = use is not None
    return own["kept_by_validation"] if use is None else bool(use)


def _one_condition(name, fitted, raw, held, scored, shipped, label_priors, params, folds):
    """The joint head's calibrated held-out table of condition ``name`` and its decision: out of
    fold where its fold rows (``folds``: the study folds', ``fold_heads.joint_out_of_fold``) have
    any, else on the validation split; vetoed by the left-out sites' verdict (``folds``: by
    condition, ``left_out_sites.left_out_site_verdicts``)."""
    folded, sites = folds
    index = fitted["index"]
    rows = held[index["condition"].iloc[held].isin(SPECS[name].conditions).to_numpy()]
    chosen = scored[scored["variant"] == "chosen"]
    table = head_table(chosen, index, rows, raw[np.isin(held, rows)], "joint")
    calibration, calibrated = calibrate_on_validation(table, label_priors, params["calibration"])
    methods = {"grader": shipped["method"], "context": calibration["method"]}
    paired = paired_on_validation(
        {"grader": chosen, "context": calibrated},
        methods,
        params["calibration"],
        int(params["seed"]),
    )
    own = {
        "calibration": calibration,
        "paired": paired,
        "variant": shipped["variant"],
        "split_verdict": wins(paired["share_won"], params["confidence"]),
    }
    out_of_fold = judged_condition(
        name, folded, scored[scored["variant"] == OUT_OF_FOLD], label_priors, params
    )
    own["decided_on"] = "out_of_fold" if out_of_fold is not None else "validation"
    own["out_of_fold"] = out_of_fold
    own["left_out_sites"] = sites[name]
    own["kept"] = _decide(own, out_of_fold or paired, params)
    own["figures"] = {
        "joint": split_figures(calibrated, params["evaluation"]),
        "shipped": split_figures(chosen, params["evaluation"]),
    }
    return own, calibrated.assign(variant="joint")


def grade_jointly(
    label_priors: pd.DataFrame, params: dict[str, Any], **inputs
) -> tuple[dict, dict, pd.DataFrame]:
    """The joint head fitted on every condition's chosen-grader features (``models.grading.
    joint``), calibrated on validation and judged per condition against what the condition ships
    (its grader): out of fold where the conditions' fold models'
    features are there (the head fitted once per study fold, ``models.grading.fold_heads``,
    against the condition's out-of-fold rows), else on the validation split; not kept where the
    leave-site-out folds say it grades a new site worse than the grader (``left_out_sites``).
    Returns the head (with, per condition, whether it grades), its figures, and every
    condition's scored predictions in one table, where a kept head's rows are ``chosen`` and its
    rows are ``joint`` for every condition.

    Args:
        inputs: ``<condition>__joint_features`` (with the variant and the calibration method of
            what the condition ships, and the fold models' rows: ``fold_heads.
            split_fold_features``) and ``__scored_predictions`` (with its out-of-fold rows).
    """
    scored = {c: inputs[f"{c}__scored_predictions"] for c in CONDITION_NAMES}
    parts = {c: split_fold_features(inputs[f"{c}__joint_features"]) for c in CONDITION_NAMES}
    features = {c: shipped for c, (shipped, _) in parts.items()}
    trained = [c for c in CONDITION_NAMES if "shipped_variant" in features[c]]
    if not trained:
        return {}, {"skipped": True, "reason": "no condition trained"}, pd.concat(scored.values())
    fitted = fit_joint({c: features[c] for c in trained}, params)
    folded = joint_out_of_fold(foldable({c: parts[c][1] for c in trained}), params)
    sites = left_out_site_verdicts(
        {c: inputs[f"{c}__joint_features"] for c in trained}, label_priors, params
    )
    held = held_rows(fitted["index"])
    raw = joint_raw(fitted, held)
    per_condition, tables = {}, []
    for name in trained:
        own, joint_rows = _one_condition(
            name,
            fitted,
            raw,
            held,
            scored[name],
            shipped_of(features[name]),
            label_priors,
            params,
            (folded, sites),
        )
        per_condition[name] = own
        shipped = scored[name]
        if own["kept"]:
            shipped = pd.concat(
                [shipped[shipped["variant"] != "chosen"], joint_rows.assign(variant="chosen")]
            )
        tables += [shipped, joint_rows]
        judged = own["out_of_fold"] or own["paired"]
        logger.info(
            "joint[%s]: %s log loss %+.4f against what it ships, lower in %.0f%% "
            "of resamples%s -> %s",
            name,
            own["decided_on"],
            judged["gain"],
            100 * judged["share_won"],
            "; worse on the left-out sites" if own["site_veto"] else "",
            "kept" if own["kept"] else "not kept",
        )
    tables += [scored[c] for c in CONDITION_NAMES if c not in trained]
    found, summary = _unlike_training({c: features[c] for c in trained}, params)
    bundle = as_bundle(
        fitted,
        params,
        {
            c: {k: own[k] for k in ("kept", "calibration", "variant")}
            for c, own in per_condition.items()
        },
    )
    bundle["novelty"] = found
    metrics = {
        "novelty": summary,
        "epochs": fitted["epochs"],
        "conditions": per_condition,
    }
    return bundle, json_ready(metrics), pd.concat(tables, ignore_index=True)
