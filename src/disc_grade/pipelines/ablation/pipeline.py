"""ablation: a condition's ROIs -> every pretraining/fine-tuning recipe -> one table, figure, page.

Under each condition's namespace; DVC runs one condition (``params.yaml``: ``ablation_condition``)
with ``--namespaces``.
"""

from kedro.pipeline import Node, Pipeline

from disc_grade.conditions import CONDITION_NAMES
from disc_grade.pipelines.ablation.nodes import ablation_page, report_ablation, run_recipes


def ablation_pipeline() -> Pipeline:
    return Pipeline(
        [
            Node(
                run_recipes,
                [
                    "disc_rois",
                    "roi_index",
                    "phantom_truth",
                    "params:ablation",
                    "params:pretraining",
                    "params:finetuning",
                    "params:finetuning_variants",
                ],
                ["ablation_predictions", "ablation_probes"],
                name="run_ablation_recipes",
            ),
            Node(
                report_ablation,
                [
                    "ablation_predictions",
                    "ablation_probes",
                    "params:ablation",
                    "params:finetuning_variants",
                    "params:evaluation",
                ],
                [
                    "ablation_table",
                    "ablation_metrics",
                    "ablation_plot",
                    "ablation_md",
                    "ablation_section",
                ],
                name="report_ablation",
            ),
            Node(
                ablation_page,
                ["ablation_section", "ablation_plot"],
                "ablation_html",
                name="ablation_page",
            ),
        ]
    )


def create_pipeline(**kwargs) -> Pipeline:
    return sum(
        (
            Pipeline(ablation_pipeline(), namespace=c, inputs={"phantom_truth"})
            for c in CONDITION_NAMES
        ),
        start=Pipeline([]),
    )
