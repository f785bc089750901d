"""report: every condition's bundle -> the RSNA score over all 25 targets, the report.

Each condition hands the report its summary (``results``) and its figures (``report_figures``,
``pipelines/condition/bundle.py``); the joint stage every condition's held-out predictions in one
table (``scored_predictions``, with what inference ships as ``chosen``) and its own figures
(``joint_metrics``).
"""

from kedro.pipeline import Node, Pipeline

from disc_grade.conditions import CONDITION_NAMES
from disc_grade.evaluation.report_build import (
    require_a_trained_condition,
    score_test_splits,
    write_report,
)


def _each(item: str) -> dict[str, str]:
    """``<condition>__<item>`` -> ``<condition>.<item>`` for every condition."""
    return {f"{c}__{item}": f"{c}.{item}" for c in CONDITION_NAMES}


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                require_a_trained_condition,
                _each("results"),
                None,
                name="require_a_trained_condition",
            ),
            Node(
                score_test_splits,
                {
                    "train_labels": "train_labels",
                    "study_splits": "study_splits",
                    "label_priors": "label_priors",
                    "phantom_truth": "phantom_truth",
                    "scored_predictions": "scored_predictions",
                    "settings": "params:report.gaps",
                },
                ["rsna_score", "gaps", "gap_resamples"],
                name="score_test_splits",
            ),
            Node(
                write_report,
                {
                    "data_source": "data_source",
                    "rsna_score": "rsna_score",
                    "joint_metrics": "joint_metrics",
                    "gaps": "gaps",
                    **_each("results"),
                    **_each("report_figures"),
                },
                ["report_md", "report_html"],
                name="write_report",
            ),
        ]
    )
