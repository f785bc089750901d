"""study: one (label fraction, seed) cell of the label-efficiency study, per condition.

Under each condition's namespace, reading its ROIs and encoder; DVC runs the grid of one
condition (``params.yaml``: ``study.condition``) with ``--namespaces``.
"""

from kedro.pipeline import Node, Pipeline

from disc_grade.conditions import CONDITION_NAMES
from disc_grade.pipelines.study.nodes import finetune_on_fraction


def study_pipeline() -> Pipeline:
    return Pipeline(
        [
            Node(
                finetune_on_fraction,
                [
                    "disc_rois",
                    "roi_index",
                    "encoder",
                    "params:pretraining",
                    "params:finetuning",
                    "params:finetuning_variants",
                    "params:study",
                ],
                "study_cells",
                name="finetune_on_fraction",
            )
        ]
    )


def create_pipeline(**kwargs) -> Pipeline:
    return sum(
        (Pipeline(study_pipeline(), namespace=c) for c in CONDITION_NAMES),
        start=Pipeline([]),
    )
