"""Pretraining: train-split ``disc_rois`` -> ``pretrained_encoder`` and its loss curve."""

from kedro.pipeline import Node, Pipeline

from disc_grade.pipelines.pretraining.nodes import pretrain_contrastive_encoder


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                pretrain_contrastive_encoder,
                ["disc_rois", "roi_index", "phantom_truth", "params:pretraining"],
                [
                    "pretrained_encoder",
                    "pretraining_curve",
                    "pretraining_curve_plot",
                    "pretraining_probe",
                ],
                name="pretrain_contrastive_encoder",
            )
        ]
    )
