"""Nodes of the report pipeline: the RSNA score over every condition, and the report."""

from __future__ import annotations

import logging
from functools import partial

import pandas as pd

from disc_grade.conditions import CONDITION_NAMES, SPECS
from disc_grade.evaluation.ceiling import grade_prior, truth_of
from disc_grade.evaluation.floor import floor_table, rsna_floor, unavailable
from disc_grade.evaluation.render import html_report, markdown_report
from disc_grade.evaluation.report import sections
from disc_grade.evaluation.rsna_targets import (
    constant_scores,
    labels_long,
    scores_by_variant,
    split_targets,
)
from disc_grade.evaluation.site_gap import (
    ceiling_gap_resamples,
    graded_discs,
    resample_rows,
    score_gap_resamples,
    split_resamples,
    summarised,
)
from disc_grade.jsonable import json_ready
from disc_grade.rsna import PROB_COLUMNS

TEST_SPLITS = ("test", "external_test")

logger = logging.getLogger(__name__)


def require_a_trained_condition(**results: dict) -> None:
    """Nothing when any condition trained; a run in which none could fails, naming each reason.

    Args:
        results: ``<condition>__results`` (each condition's bundle, its ``status`` within).

    Raises:
        RuntimeError: every condition was skipped.
    """
    statuses = {key.split("__")[0]: bundle["status"] for key, bundle in results.items()}
    if any(state.get("trained") for state in statuses.values()):
        return None
    reasons = "; ".join(f"{name}: {state.get('reason')}" for name, state in statuses.items())
    raise RuntimeError(
        f"no condition could be trained ({reasons}); see each <condition>/status.json"
    )


def score_conditions(
    train_labels: pd.DataFrame,
    study_splits: pd.DataFrame,
    label_priors: pd.DataFrame,
    phantom_truth: pd.DataFrame,
    scored_predictions: pd.DataFrame,
) -> dict:
    """Per test split, the competition score over all 25 targets of its studies: every variant
    and ``chosen`` (each condition graded as inference grades it), beside the prior, the best
    constant (``label_priors``) and the floor (a grader that knows the latent; phantom only).
    Targets no condition graded carry the best constant and are counted.

    Args:
        scored_predictions: every condition's held-out predictions (the joint stage's), each
            variant's and ``chosen``.
    """
    labels = labelled(train_labels, study_splits)
    columns = ["condition", *PROB_COLUMNS]
    prior = label_priors.loc[~label_priors["weighted"], columns]
    weighted = label_priors.loc[label_priors["weighted"], columns]
    predictions = [scored_predictions]
    scores: dict = {}
    for split in TEST_SPLITS:
        own = labels[labels["split"] == split]
        if own.empty:
            continue
        scores[split] = {
            **scores_by_variant(labels, predictions, weighted, split),
            **constant_scores(labels, prior, weighted, split),
            "floor": {
                **rsna_floor(own, phantom_truth),
                "n_studies": int(own["study_id"].nunique()),
            },
        }
        for name, score in scores[split].items():
            logger.info(
                "RSNA score over 25 targets, %s, %s: %s",
                split,
                name,
                score.get("rsna_score", score.get("reason")),
            )
    return json_ready(scores)


def labelled(train_labels: pd.DataFrame, study_splits: pd.DataFrame) -> pd.DataFrame:
    """Every target's label (``labels_long``) with its study's split."""
    return labels_long(train_labels).merge(study_splits[["study_id", "split"]], on="study_id")


def gaps_to_the_limit(
    labels: pd.DataFrame,
    weighted: pd.DataFrame,
    phantom_truth: pd.DataFrame,
    scored_predictions: pd.DataFrame,
    settings: dict,
) -> tuple[dict, pd.DataFrame]:
    """How far what inference ships stays from what the data allow, with intervals
    (``evaluation.site_gap``): per condition the Bayes ceiling minus balanced accuracy on each
    test split and the held-out minus the in-site gap; per split the RSNA score minus its floor.
    Also every resample of them (``resample_rows``), which ``pooled_gaps`` pools over cohorts.

    Args:
        labels: every target's label with its split (``labelled``).
        weighted: the best constant's rows of ``label_priors``.
        scored_predictions: the joint stage's, ``chosen`` (each condition as inference grades
            it) among them.
        settings: ``report.gaps`` (``n_resamples``, ``seed``, ``level``).
    """
    reason = unavailable(phantom_truth)
    if reason:
        return {"available": False, "reason": reason}, resample_rows("", {})
    chosen = scored_predictions[scored_predictions["variant"] == "chosen"]
    level = float(settings["level"])
    out: dict = {"available": True, "settings": dict(settings), "conditions": {}}
    rows = []
    for name, spec in SPECS.items():
        truth = truth_of(phantom_truth, spec.conditions)
        discs = graded_discs(chosen, truth, spec.conditions)
        gaps = {
            split: (
                own["study_id"].nunique(),
                partial(ceiling_gap_resamples, own, grade_prior(truth)),
            )
            for split, own in discs.groupby("split")
            if split in TEST_SPLITS
        }
        resampled = split_resamples(gaps, settings)
        out["conditions"][name] = summarised(resampled, level) or None
        rows.append(resample_rows(name, resampled))
    scores = {}
    for split in TEST_SPLITS:
        own = labels[labels["split"] == split]
        if own.empty or chosen.empty:
            continue
        graded = split_targets(labels, [chosen], weighted, "chosen", split)
        floor = floor_table(own, phantom_truth)
        scores[split] = (own["study_id"].nunique(), partial(score_gap_resamples, graded, floor))
    resampled = split_resamples(scores, settings)
    out["rsna_score"] = summarised(resampled, level)
    rows.append(resample_rows("rsna_score", resampled))
    logger.info("RSNA score minus its floor per test split: %s", out["rsna_score"])
    return json_ready(out), pd.concat(rows, ignore_index=True)


def score_test_splits(
    train_labels: pd.DataFrame,
    study_splits: pd.DataFrame,
    label_priors: pd.DataFrame,
    phantom_truth: pd.DataFrame,
    scored_predictions: pd.DataFrame,
    settings: dict,
) -> tuple[dict, dict, pd.DataFrame]:
    """The test splits' RSNA scores (``score_conditions``) and the gaps to what the data allow
    with their resamples (``gaps_to_the_limit``, ``settings``: ``report.gaps``): one node, so
    kedro-viz's first screen keeps one box for what both read."""
    tables = (train_labels, study_splits, label_priors, phantom_truth, scored_predictions)
    labels = labelled(train_labels, study_splits)
    weighted = label_priors.loc[label_priors["weighted"], ["condition", *PROB_COLUMNS]]
    gaps = gaps_to_the_limit(labels, weighted, phantom_truth, scored_predictions, settings)
    return (score_conditions(*tables), *gaps)


def write_report(
    data_source: dict, rsna_score: dict, joint_metrics: dict, gaps: dict, **bundles
) -> tuple[str, str]:
    """``report.md`` and ``report.html`` (figures embedded); the data source is read from the data.

    Args:
        bundles: ``<condition>__results`` and ``<condition>__report_figures`` per condition.
    """
    conditions = {c: dict(bundles[f"{c}__results"]) for c in CONDITION_NAMES}
    joint = joint_metrics.get("conditions") or {}
    for name, results in conditions.items():
        results["probe"] = results.pop("encoder_probe", None)
        results["joint"] = joint.get(name) or {}
    figures = {
        f"{c}/{name}": load()
        for c in CONDITION_NAMES
        for name, load in bundles[f"{c}__report_figures"].items()
    }
    parts = sections(data_source, conditions, rsna_score, joint_metrics, gaps)
    return markdown_report(parts), html_report(parts, figures)
