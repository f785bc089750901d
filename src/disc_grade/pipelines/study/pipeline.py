"""study: one (label fraction, seed) cell of the label-efficiency study; DVC runs the grid."""

from kedro.pipeline import Node, Pipeline

from disc_grade.pipelines.study.nodes import finetune_on_fraction


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                finetune_on_fraction,
                [
                    "disc_rois",
                    "roi_index",
                    "pretrained_encoder",
                    "params:pretraining",
                    "params:finetuning",
                    "params:finetuning_variants",
                    "params:study",
                ],
                "study_predictions",
                name="finetune_on_fraction",
            )
        ]
    )
