"""report: every condition's results -> the RSNA score over all 25 targets, the report."""

from kedro.pipeline import Node, Pipeline

from disc_grade.conditions import CONDITION_NAMES
from disc_grade.pipelines.report.nodes import (
    FIGURE_NAMES,
    RESULTS,
    require_a_trained_condition,
    score_conditions,
    write_report,
)


def create_pipeline(**kwargs) -> Pipeline:
    per_condition = {
        f"{c}__{item}": f"{c}.{item}" for c in CONDITION_NAMES for item in (*RESULTS, *FIGURE_NAMES)
    }
    return Pipeline(
        [
            Node(
                require_a_trained_condition,
                {c: f"{c}.status" for c in CONDITION_NAMES},
                None,
                name="require_a_trained_condition",
            ),
            Node(
                score_conditions,
                {
                    "train_labels": "train_labels",
                    "study_splits": "study_splits",
                    "label_priors": "label_priors",
                    "phantom_truth": "phantom_truth",
                    **{
                        f"{c}__{item}": f"{c}.{item}"
                        for c in CONDITION_NAMES
                        for item in (
                            "predictions",
                            "chosen_grader",
                            "context_metrics",
                            "context_predictions",
                        )
                    },
                },
                "rsna_score",
                name="score_conditions",
            ),  # fmt: skip
            Node(
                write_report,
                {"data_source": "data_source", "rsna_score": "rsna_score", **per_condition},
                ["report_md", "report_html"],
                name="write_report",
            ),
        ]
    )
