"""Nodes of the report pipeline: the RSNA score over every condition, and the report."""

from __future__ import annotations

import logging

import pandas as pd

from disc_grade.evaluation.render import html_report, markdown_report
from disc_grade.evaluation.report import FIGURES, sections
from disc_grade.evaluation.rsna_targets import labels_long, scores_by_variant
from disc_grade.jsonable import json_ready
from disc_grade.rsna import PROB_COLUMNS

logger = logging.getLogger(__name__)
# what the report reads of each condition (the figures are embedded in the HTML)
RESULTS = ("status", "metrics", "ceiling", "end_to_end_metrics", "encoder_probe",
           "localiser_metrics")  # fmt: skip
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
    *predictions: pd.DataFrame,
) -> dict:
    """The competition score over all 25 targets of the test studies, per variant, beside the
    prior and the best constant (``label_priors``); targets no condition graded (excluded cells,
    a skipped condition) carry the training prior and are counted."""
    labels = labels_long(train_labels).merge(study_splits[["study_id", "split"]], on="study_id")
    columns = ["condition", *PROB_COLUMNS]
    prior = label_priors.loc[~label_priors["weighted"], columns]
    weighted = label_priors.loc[label_priors["weighted"], columns]
    scores = scores_by_variant(labels, list(predictions), prior, weighted)
    for name, score in scores.items():
        logger.info("RSNA score over 25 targets, test split, %s: %.4f", name, score["rsna_score"])
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
