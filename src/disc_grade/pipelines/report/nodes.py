"""Nodes of the report pipeline: the RSNA score over every condition, and the report."""

from __future__ import annotations

import logging

import pandas as pd

from disc_grade.conditions import CONDITION_NAMES
from disc_grade.evaluation.floor import rsna_floor
from disc_grade.evaluation.render import html_report, markdown_report
from disc_grade.evaluation.report import FIGURES, sections
from disc_grade.evaluation.rsna_targets import constant_scores, labels_long, scores_by_variant
from disc_grade.jsonable import json_ready
from disc_grade.rsna import PROB_COLUMNS

TEST_SPLITS = ("test", "external_test")

logger = logging.getLogger(__name__)
# what the report reads of each condition (the figures are embedded in the HTML)
RESULTS = ("status", "metrics", "ceiling", "end_to_end_metrics", "encoder_probe", "calibration",
           "chosen_grader", "context_metrics", "localiser_metrics")  # fmt: skip
FIGURE_NAMES = tuple(name for name, _ in FIGURES)


def require_a_trained_condition(**statuses: dict) -> None:
    """Nothing when any condition trained; a run in which none could fails, naming each reason.

    Raises:
        RuntimeError: every condition was skipped.
    """
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
    **results,
) -> dict:
    """Per test split, the competition score over all 25 targets of its studies: every variant
    and the graders validation chose (each condition's ``chosen_grader``, or its study-context
    head where validation kept it), beside the prior, the
    best constant (``label_priors``) and the floor (a grader that knows the latent; phantom
    only). Targets no condition graded carry the best constant and are counted.

    Args:
        results: ``<condition>__predictions``, ``__chosen_grader``, ``__context_metrics`` and
            ``__context_predictions`` per condition.
    """
    labels = labels_long(train_labels).merge(study_splits[["study_id", "split"]], on="study_id")
    columns = ["condition", *PROB_COLUMNS]
    prior = label_priors.loc[~label_priors["weighted"], columns]
    weighted = label_priors.loc[label_priors["weighted"], columns]
    predictions = [results[f"{c}__predictions"] for c in CONDITION_NAMES]
    chosen = [
        results[f"{c}__context_predictions"]
        if results.get(f"{c}__context_metrics", {}).get("kept")
        else results[f"{c}__chosen_grader"].get("variant")
        for c in CONDITION_NAMES
    ]
    scores: dict = {}
    for split in TEST_SPLITS:
        own = labels[labels["split"] == split]
        if own.empty:
            continue
        scores[split] = {
            **scores_by_variant(labels, predictions, weighted, split, chosen),
            **constant_scores(labels, prior, weighted, split),
            "floor": {
                **rsna_floor(own, phantom_truth),
                "n_studies": int(own["study_id"].nunique()),
            },
        }
        for name, score in scores[split].items():
            logger.info("RSNA score over 25 targets, %s, %s: %s", split, name,
                        score.get("rsna_score", score.get("reason")))  # fmt: skip
    return json_ready(scores)


def write_report(data_source: dict, rsna_score: dict, **results) -> tuple[str, str]:
    """``report.md`` and ``report.html`` (figures embedded); the data source is read from the data.

    Args:
        results: ``<condition>__<item>`` for every item of ``RESULTS`` and ``FIGURE_NAMES``.
    """
    conditions: dict[str, dict] = {}
    figures: dict[str, bytes] = {}
    for key, value in results.items():
        condition, item = key.split("__", 1)
        if item in FIGURE_NAMES:
            figures[f"{condition}/{item}"] = value
        else:
            conditions.setdefault(condition, {})[item.replace("encoder_probe", "probe")] = value
    parts = sections(data_source["description"], conditions, rsna_score)
    return markdown_report(parts), html_report(parts, figures)
