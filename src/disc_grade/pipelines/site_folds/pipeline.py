"""site_folds: a condition's leave-site-out folds (``leave_site_out.max_sites`` > 0), each a unit
of work of its own.

Under each condition's namespace, reading its crops and the studies' sites: ``kedro run
--pipelines=site_folds --namespaces=foraminal --params=site_fold=1`` grades the fold that leaves
out the second site of the plan (``site_folds.site_plan``: the largest training sites first);
with ``site_fold`` null (the default, and ``kedro run --pipelines=train``) every fold in turn.
DVC's ``site_folds`` stage runs one cell per fold (``params.yaml``: ``site_folds``), so that a
team spreads them over several GPUs or machines; the condition's stage reads them back
(``selection.site_cells.gather_site_cells``).
"""

from kedro.pipeline import Node, Pipeline

from disc_grade.conditions import CONDITION_NAMES
from disc_grade.pipelines.site_folds.nodes import grade_site_cells


def site_folds_pipeline() -> Pipeline:
    return Pipeline(
        [
            Node(
                grade_site_cells,
                [
                    "disc_rois",
                    "roi_index",
                    "study_splits",
                    "params:pretraining",
                    "params:finetuning",
                    "params:finetuning_variants",
                    "params:leave_site_out",
                    "params:site_fold",
                    "params:name",
                ],
                ["site_fold_cells", "site_fold_feature_cells"],
                name="grade_site_cells",
            )
        ]
    )


def create_pipeline(**kwargs) -> Pipeline:
    return sum(
        (
            Pipeline(
                site_folds_pipeline(),
                namespace=c,
                inputs={"study_splits"},
                parameters={"params:site_fold"},
            )
            for c in CONDITION_NAMES
        ),
        start=Pipeline([]),
    )
