"""The condition pipeline's choices: the grader validation (or the folds) chooses, its study-fold
models' average and out-of-fold rows, and the study-context head against it."""

from kedro.pipeline import Node

from disc_grade.models.grading.predict import empty_predictions
from disc_grade.pipelines.condition.grade import VARIANTS
from disc_grade.pipelines.condition.skip import (
    empty_frame,
    nothing,
    skippable_node,
    skipped,
)
from disc_grade.selection import context, fold_average, out_of_fold, shipped, sites
from disc_grade.selection.study_cells import no_study_folds


def choose() -> list[Node]:
    """The grader validation chooses, its fold models' average and out-of-fold rows, then the
    study-context head against it."""
    return [
        skippable_node(
            sites.choose_across_sites,
            [
                "predictions",
                "calibration",
                "params:selection",
                "site_fold_predictions",
                "study_fold_predictions",
                "label_priors",
                "params:calibration",
                "params:evaluation",
                "params:leave_site_out",
            ],
            "chosen_grader",
            nothing,
            name="choose_grader",
        ),
        skippable_node(
            fold_average.fold_average,
            [
                "study_fold_predictions",
                "label_priors",
                "params:calibration",
                "params:evaluation",
                "calibration",
            ],
            ["fold_average_metrics", "fold_average_predictions"],
            skipped(nothing, fold_average.no_fold_average),
        ),
        skippable_node(
            fold_average.ship_fold_graders,
            [
                "study_fold_graders",
                "study_fold_predictions",
                "chosen_grader",
                "calibration",
                "label_priors",
                "params:calibration",
            ],
            "fold_graders",
            dict,
        ),
        skippable_node(
            out_of_fold.shipped_out_of_fold,
            [
                "study_fold_predictions",
                "label_priors",
                "params:calibration",
                "calibration",
                "chosen_grader",
            ],
            "out_of_fold_predictions",
            no_study_folds,
        ),
        _context_node(),
        Node(
            shipped.ship_grader,
            [
                "chosen_grader",
                *[f"{v}.grader_model" for v in VARIANTS],
                "calibration",
                "context_model",
                "fold_graders",
                "params:roi",
                "params:finetuning",
            ],
            "shipped_grader",
            name="ship_grader",
        ),
    ]


def _context_node() -> Node:
    """The study-context head against the chosen grader (``context.grade_in_context``)."""
    return skippable_node(
        context.grade_in_context,
        [
            "disc_rois",
            "roi_index",
            "predictions",
            "calibration",
            "chosen_grader",
            "study_fold_features",
            "out_of_fold_predictions",
            "site_fold_features",
            "site_fold_predictions",
            "label_priors",
            "params:context",
            "params:calibration",
            "params:selection",
            "params:evaluation",
            "params:finetuning",
            *[f"{v}.grader_model" for v in VARIANTS],
        ],
        ["context_model", "context_metrics", "context_predictions", "joint_features"],
        skipped(dict, nothing, empty_predictions, empty_frame),
        arg=1,
    )
