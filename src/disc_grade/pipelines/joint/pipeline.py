"""joint: after every condition, one head grades a study's targets of every condition together
(``models.grading.joint``); validation keeps it per condition. It hands the report every
condition's scored predictions in one table and its figures; inference applies it. Then the
study stacker (``models.grading.stacker``), fitted on every condition's out-of-fold predictions,
refines the test studies' probabilities for the families its own cross-validation keeps it for."""

from kedro.pipeline import Node, Pipeline

from disc_grade.conditions import CONDITION_NAMES
from disc_grade.pipelines.joint.nodes import grade_jointly
from disc_grade.pipelines.joint.stacking import stack_studies


def create_pipeline(**kwargs) -> Pipeline:
    per_condition = {
        f"{c}__{item}": f"{c}.{item}"
        for c in CONDITION_NAMES
        for item in ("joint_features", "scored_predictions")
    }
    out_of_fold = {
        f"{c}__out_of_fold_predictions": f"{c}.out_of_fold_predictions" for c in CONDITION_NAMES
    }
    return Pipeline(
        [
            Node(
                grade_jointly,
                {"label_priors": "label_priors", "params": "params:joint", **per_condition},
                ["joint_head_model", "joint_head_metrics", "jointly_scored_predictions"],
                name="grade_jointly",
            ),
            Node(
                stack_studies,
                {
                    "params": "params:joint",
                    "head_model": "joint_head_model",
                    "head_metrics": "joint_head_metrics",
                    "scored": "jointly_scored_predictions",
                    **out_of_fold,
                },
                ["joint_model", "joint_metrics", "scored_predictions"],
                name="stack_studies",
            ),
        ]
    )
