"""folds: a condition's study folds (``split.n_folds`` >= 2), each a unit of work of its own.

Under each condition's namespace, reading its crops: ``kedro run --pipelines=folds
--namespaces=foraminal --params=study_fold=2`` grades one fold of one condition; with
``study_fold`` null (the default, and ``kedro run --pipelines=train``) every fold in turn. DVC's
``folds`` stage runs one cell per fold (``params.yaml``: ``folds``), so that a team spreads them
over several GPUs or machines; the condition's stage reads them back (``gather_fold_cells``).
"""

from kedro.pipeline import Node, Pipeline

from disc_grade.conditions import CONDITION_NAMES
from disc_grade.pipelines.folds.nodes import grade_fold_cells


def folds_pipeline() -> Pipeline:
    return Pipeline(
        [
            Node(
                grade_fold_cells,
                [
                    "disc_rois",
                    "roi_index",
                    "params:pretraining",
                    "params:finetuning",
                    "params:finetuning_variants",
                    "params:study_fold",
                    "params:name",
                ],
                ["study_fold_cells", "study_fold_feature_cells", "study_fold_weight_cells"],
                name="grade_fold_cells",
            )
        ]
    )


def create_pipeline(**kwargs) -> Pipeline:
    return sum(
        (
            Pipeline(folds_pipeline(), namespace=c, parameters={"params:study_fold"})
            for c in CONDITION_NAMES
        ),
        start=Pipeline([]),
    )
