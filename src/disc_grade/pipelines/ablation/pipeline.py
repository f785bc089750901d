"""ablation: ROIs -> every pretraining/fine-tuning recipe -> one table, one figure, one page."""

from kedro.pipeline import Node, Pipeline

from disc_grade.pipelines.ablation.nodes import ablation_page, report_ablation, run_recipes


def create_pipeline(**kwargs) -> Pipeline:
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
