"""study_report: every cell of a condition's label-efficiency grid -> one table, figure, page."""

from kedro.pipeline import Node, Pipeline

from disc_grade.conditions import CONDITION_NAMES
from disc_grade.pipelines.study_report.nodes import (
    gather_study,
    label_efficiency,
    label_efficiency_page,
)


def report_pipeline() -> Pipeline:
    return Pipeline(
        [
            Node(gather_study, "study_cells", "study_predictions_all", name="gather_study"),
            Node(
                label_efficiency,
                ["study_predictions_all", "params:evaluation", "params:pretraining"],
                [
                    "label_efficiency_table",
                    "label_efficiency_metrics",
                    "label_efficiency_plot",
                    "label_efficiency_md",
                    "label_efficiency_section",
                ],
                name="label_efficiency",
            ),
            Node(
                label_efficiency_page,
                ["label_efficiency_section", "label_efficiency_plot"],
                "label_efficiency_html",
                name="label_efficiency_page",
            ),
        ]
    )


def create_pipeline(**kwargs) -> Pipeline:
    return sum(
        (Pipeline(report_pipeline(), namespace=c) for c in CONDITION_NAMES), start=Pipeline([])
    )
