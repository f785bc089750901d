"""Nodes of the report pipeline: the RSNA score over every condition, and the report."""

from __future__ import annotations

import logging

import pandas as pd

from disc_grade.conditions import CONDITION_NAMES
from disc_grade.evaluation.floor import rsna_floor
from disc_grade.evaluation.render import html_report, markdown_report
from disc_grade.evaluation.report import sections
from disc_grade.evaluation.rsna_targets import constant_scores, labels_long, scores_by_variant
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
    labels = labels_long(train_labels).merge(study_splits[["study_id", "split"]], on="study_id")
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


def write_report(
    data_source: dict, rsna_score: dict, joint_metrics: dict, **bundles
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
    parts = sections(data_source, conditions, rsna_score, joint_metrics)
    return markdown_report(parts), html_report(parts, figures)
