"""Node: the study stacker (``models.grading.stacker``) fitted on every condition's out-of-fold
predictions, kept per family where its own cross-validation on them says so, and applied to the
test studies' shipped probabilities."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from disc_grade.evaluation.log_loss import weighted_log_loss
from disc_grade.jsonable import json_ready
from disc_grade.models.grading.stacker import apply_stacker, fit_stacker
from disc_grade.pipelines.condition.bundle import OUT_OF_FOLD
from disc_grade.pipelines.condition.fold_choice import TEST_SPLITS
from disc_grade.pipelines.joint.nodes import grade_jointly
from disc_grade.rsna import PROB_COLUMNS, condition_family

logger = logging.getLogger(__name__)
STACKED = "stacked"  # the variant of the stacker's rows in ``scored_predictions``


def _test_figures(given: pd.DataFrame, stacked: pd.DataFrame) -> dict[str, dict]:
    """Per family and test split, the weighted log loss of the shipped and the stacked
    probabilities (reported only: no choice reads them)."""
    out: dict[str, dict] = {}
    family = given["condition"].map(condition_family)
    for (name, split), rows in given.groupby([family, "split"], sort=True):
        labels = rows["label"].to_numpy(dtype=int)
        out.setdefault(str(name), {})[str(split)] = {
            "shipped_log_loss": weighted_log_loss(labels, rows[PROB_COLUMNS].to_numpy(float)),
            "stacked_log_loss": weighted_log_loss(
                labels, stacked.loc[rows.index, PROB_COLUMNS].to_numpy(float)
            ),
            "n_targets": int(len(rows)),
        }
    return out


def stack_studies(
    params: dict[str, Any], head_model: dict, head_metrics: dict, scored: pd.DataFrame
) -> tuple[dict, dict, pd.DataFrame]:
    """The joint stage's bundle, figures and scored predictions with the study stacker: fitted
    on every condition's out-of-fold rows in ``scored`` (variant ``OUT_OF_FOLD``, taken out of
    what it returns; none without study folds: then nothing else changes), its families kept
    where cross-validation on those rows says so (``joint.stacker``; ``use`` true or false
    overrides). On the test splits each study's shipped (``chosen``) probabilities are stacked:
    kept families' rows replace them (grades unchanged), and every family's stacked rows are
    added as variant ``stacked``.

    Raises:
        ValueError: ``joint.stacker.use`` is not null, true or false.
    """
    own = params["stacker"]
    use = own.get("use")
    if use not in (None, True, False):
        raise ValueError(f"joint.stacker.use must be null, true or false, got {use!r}")
    is_oof = (scored["variant"] == OUT_OF_FOLD).to_numpy()
    rows, scored = scored[is_oof].reset_index(drop=True), scored[~is_oof].reset_index(drop=True)
    if rows.empty or use is False:
        reason = "switched off (joint.stacker.use)" if use is False else "no study folds"
        return head_model, {**head_metrics, "stacker": {"skipped": True, "reason": reason}}, scored
    model = fit_stacker(rows, own)
    if not model["families"]:
        reason = f"fewer out-of-fold studies than joint.stacker.folds ({own['folds']})"
        return head_model, {**head_metrics, "stacker": {"skipped": True, "reason": reason}}, scored
    joint_kept = {c for c, o in (head_model or {}).get("conditions", {}).items() if o.get("kept")}
    for name, fitted in model["families"].items():
        fitted["kept_by_validation"] = fitted["kept"]
        fitted["kept"] = fitted["kept"] if use is None else True
        if name in joint_kept:  # its shipped probabilities are not what the stacker learnt from
            fitted["kept"], fitted["not_applied"] = False, "ships the joint head"
        logger.info(
            "stacker[%s]: out-of-fold log loss %.4f -> %.4f, lower in %.0f%% of resamples -> %s",
            name,
            fitted["out_of_fold"]["given_log_loss"],
            fitted["out_of_fold"]["stacked_log_loss"],
            100 * fitted["out_of_fold"]["share_won"],
            "kept" if fitted["kept"] else "not kept",
        )
    chosen = scored[(scored["variant"] == "chosen") & scored["split"].isin(TEST_SPLITS)]
    every = {"families": {n: {**f, "kept": True} for n, f in model["families"].items()}}
    stacked = apply_stacker(every, chosen)
    applied = {n for n, f in model["families"].items() if f["kept"]}
    kept = chosen.copy()
    where = chosen["condition"].map(condition_family).isin(applied).to_numpy()
    kept.loc[where, PROB_COLUMNS] = stacked.loc[where, PROB_COLUMNS].to_numpy()
    out = scored.drop(index=chosen.index)
    out = pd.concat([out, kept, stacked.assign(variant=STACKED)], ignore_index=True)
    figures = {
        "families": {
            n: {k: v for k, v in f.items() if k not in ("coef", "intercept")}
            for n, f in model["families"].items()
        },
        "test": _test_figures(chosen, stacked),
        "params": own,
    }
    bundle = {**(head_model or {}), "stacker": model}
    return bundle, json_ready({**head_metrics, "stacker": figures}), out


def grade_and_stack(
    label_priors: pd.DataFrame, params: dict[str, Any], **inputs
) -> tuple[dict, dict, pd.DataFrame]:
    """The joint stage's one node: the joint head (``nodes.grade_jointly``), then the study
    stacker on what it hands on (``stack_studies``); one node, so that the lineage's top level
    stays readable.

    Args:
        inputs: ``grade_jointly``'s per-condition inputs.
    """
    head_model, head_metrics, scored = grade_jointly(label_priors, params, **inputs)
    return stack_studies(params, head_model, head_metrics, scored)
