"""joint: after every condition, one head grades a study's targets of every condition together
(``models.grading.joint``); validation keeps it per condition. It hands the report every
condition's scored predictions in one table and its figures; inference applies it. Then the
study stacker (``models.grading.stacker``), fitted on every condition's out-of-fold predictions,
refines the test studies' probabilities for the families its own cross-validation keeps it for."""

from kedro.pipeline import Node, Pipeline

from disc_grade.conditions import CONDITION_NAMES
from disc_grade.selection.stacking import grade_and_stack


def create_pipeline(**kwargs) -> Pipeline:
    per_condition = {
        f"{c}__{item}": f"{c}.{item}"
        for c in CONDITION_NAMES
        for item in ("joint_features", "scored_predictions")
    }
    return Pipeline(
        [
            Node(
                grade_and_stack,
                {
                    "label_priors": "label_priors",
                    "params": "params:joint",
                    **per_condition,
                },
                ["joint_model", "joint_metrics", "scored_predictions"],
                name="grade_jointly",
            ),
        ]
    )
