"""Node: the study stacker (``models.grading.stacker``) fitted on every condition's out-of-fold
predictions, kept per family where its own cross-validation on them says so, and applied to the
test studies' shipped probabilities."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from disc_grade.conditions import CONDITION_NAMES
from disc_grade.evaluation.log_loss import weighted_log_loss
from disc_grade.jsonable import json_ready
from disc_grade.models.grading.context_grading import KEYS
from disc_grade.models.grading.stacker import apply_stacker, fit_stacker
from disc_grade.models.grading.stacker_sites import SITE, left_out_site_gains
from disc_grade.models.training.fold_plan import SITE_OUT
from disc_grade.rsna import PROB_COLUMNS, condition_family
from disc_grade.selection.heads import site_fold_parts, site_veto
from disc_grade.selection.joint import grade_jointly
from disc_grade.selection.out_of_fold import OUT_OF_FOLD, TEST_SPLITS

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


def site_rows(joint_features: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """What each condition's leave-site-out folds' graders give the sites they left out
    (``fold_heads.site_fold_parts``), with the site (``fold_site``); empty without site folds."""
    frames = []
    for table in joint_features.values():
        features, given = site_fold_parts(table)
        if given.empty:
            continue
        left_out = features.loc[features["split"] == SITE_OUT, [*KEYS, SITE]]
        frames.append(given.merge(left_out, on=KEYS, how="left", validate="1:1"))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _judged_in_site_and_on_sites(fitted: dict, sites: dict | None, use) -> None:
    """``fitted`` (one family's stacker) with its verdict on the left-out sites and whether it
    drops the in-site one (``site_veto``), then ``joint.stacker.use``'s override."""
    fitted["left_out_sites"] = sites
    fitted["site_veto"] = site_veto(fitted["kept"], sites)
    fitted["kept_by_validation"] = fitted["kept"] and not fitted["site_veto"]
    fitted["kept"] = fitted["kept_by_validation"] if use is None else True


def stack_studies(
    params: dict[str, Any],
    head_model: dict,
    head_metrics: dict,
    scored: pd.DataFrame,
    sites: pd.DataFrame | None = None,
) -> tuple[dict, dict, pd.DataFrame]:
    """The joint stage's bundle, figures and scored predictions with the study stacker: fitted
    on every condition's out-of-fold rows in ``scored`` (variant ``OUT_OF_FOLD``, taken out of
    what it returns; none without study folds: then nothing else changes), its families kept
    where cross-validation on those rows says so (``joint.stacker``; ``use`` true or false
    overrides) and, with leave-site-out folds (``sites``: ``site_rows``), not where it stacks
    the sites they left out worse than their graders (``stacker_sites.left_out_site_gains``).
    On the test splits each study's shipped (``chosen``) probabilities are stacked: kept
    families' rows replace them (grades unchanged), and every family's stacked rows are added
    as variant ``stacked``.

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
    on_sites = left_out_site_gains(rows, sites if sites is not None else pd.DataFrame(), own)
    for name, fitted in model["families"].items():
        _judged_in_site_and_on_sites(fitted, on_sites.get(name), use)
        if name in joint_kept:  # its shipped probabilities are not what the stacker learnt from
            fitted["kept"], fitted["not_applied"] = False, "ships the joint head"
        logger.info(
            "stacker[%s]: out-of-fold log loss %.4f -> %.4f, lower in %.0f%% of resamples; "
            "left-out sites' gain %s -> %s",
            name,
            fitted["out_of_fold"]["given_log_loss"],
            fitted["out_of_fold"]["stacked_log_loss"],
            100 * fitted["out_of_fold"]["share_won"],
            (fitted["left_out_sites"] or {}).get("gain", "n/a (no site folds)"),
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
    features = {c: inputs[f"{c}__joint_features"] for c in CONDITION_NAMES}
    return stack_studies(params, head_model, head_metrics, scored, site_rows(features))
