"""Evaluation: ``predictions`` -> ``metrics.json``, dvc confusion tables, figures, report (md + html)."""

from kedro.pipeline import Node, Pipeline

from disc_grade.pipelines.evaluation import nodes as n
from disc_grade.pipelines.finetuning.pipeline import VARIANTS


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                n.compute_metrics,
                ["predictions", "params:evaluation"],
                ["metrics", "metrics_table"],
                name="compute_metrics",
            ),
            Node(
                n.confusion_pairs,
                "predictions",
                {variant: f"{variant}_confusion" for variant in VARIANTS},
                name="confusion_pairs",
            ),
            Node(n.plot_confusion, "predictions", "confusion_matrices", name="plot_confusion"),
            Node(n.plot_per_level, "metrics", "per_level_accuracy", name="plot_per_level"),
            Node(
                n.plot_reliability,
                ["predictions", "params:evaluation"],
                "reliability_diagram",
                name="plot_reliability",
            ),
            Node(
                n.plot_worst_errors,
                [
                    "predictions",
                    "disc_rois",
                    "roi_index",
                    "contrastive.grader_model",
                    "scratch.grader_model",
                    "frozen.grader_model",
                    "params:finetuning",
                    "params:evaluation",
                ],
                "worst_errors",
                name="plot_worst_errors",
            ),
            Node(
                n.compute_ceiling,
                ["phantom_truth", "predictions"],
                "ceiling",
                name="compute_ceiling",
            ),
            Node(
                n.grade_end_to_end,
                [
                    "localiser_errors",
                    "series",
                    "train_images",
                    "contrastive.grader_model",
                    "scratch.grader_model",
                    "frozen.grader_model",
                    "params:roi",
                    "params:finetuning",
                ],
                ["end_to_end_predictions", "end_to_end_exclusions"],
                name="grade_end_to_end",
            ),
            Node(
                n.compute_metrics,
                ["end_to_end_predictions", "params:evaluation"],
                ["end_to_end_metrics", "end_to_end_metrics_table"],
                name="compute_end_to_end_metrics",
            ),
            Node(
                n.write_report,
                [
                    "metrics",
                    "ceiling",
                    "end_to_end_metrics",
                    "pretraining_probe",
                    "confusion_matrices",
                    "per_level_accuracy",
                    "reliability_diagram",
                    "worst_errors",
                    "data_source",
                    "rsna_score",
                    "foraminal.metrics",
                    "foraminal.encoder_probe",
                    "foraminal.ceiling",
                    "subarticular.metrics",
                    "subarticular.encoder_probe",
                    "subarticular.ceiling",
                    "foraminal.localiser_metrics",
                    "subarticular.localiser_metrics",
                    "foraminal.status",
                    "subarticular.status",
                ],
                ["report_md", "report_html"],
                name="write_report",
            ),
        ]
    )
