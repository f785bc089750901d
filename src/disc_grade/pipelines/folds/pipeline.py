"""folds: a condition's folds, study folds (``split.n_folds`` >= 2) and leave-site-out folds
(``leave_site_out.max_sites`` > 0), each cell a unit of work of its own.

Under each condition's namespace, reading its crops and the studies' sites: ``kedro run
--pipelines=folds --namespaces=foraminal --params=fold=k2`` grades study fold 2 of one
condition, ``--params=fold=s0`` the fold that leaves out the largest training site; with
``fold`` null (the default, and ``kedro run --pipelines=train``) every cell in turn. DVC's
``folds`` stage runs one cell per entry of ``params.yaml``'s ``folds``, so that a team spreads
them over several GPUs or machines; the condition's stage reads them back
(``selection.fold_cells.gather_cells``).
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
                    "study_splits",
                    "params:pretraining",
                    "params:finetuning",
                    "params:finetuning_variants",
                    "params:leave_site_out",
                    "params:fold",
                    "params:name",
                ],
                ["fold_cells", "fold_feature_cells", "fold_weight_cells"],
                name="grade_fold_cells",
            )
        ]
    )


def create_pipeline(**kwargs) -> Pipeline:
    return sum(
        (
            Pipeline(
                folds_pipeline(), namespace=c, inputs={"study_splits"}, parameters={"params:fold"}
            )
            for c in CONDITION_NAMES
        ),
        start=Pipeline([]),
    )
