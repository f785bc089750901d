"""The condition pipeline's choices: the grader validation (or the folds) chooses, its study-fold
models' average and out-of-fold rows, and the study-context head against it."""

from kedro.pipeline import Node

from disc_grade.models.grading.predict import empty_predictions
from disc_grade.pipelines.condition.skip import (
    empty_frame,
    nothing,
    skippable_node,
    skipped,
)
from disc_grade.selection import context, fold_average, shipped, sites
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
                "site_fold_predictions",
                "study_fold_predictions",
                "label_priors",
                "judging",
            ],
            "chosen_grader",
            nothing,
            name="choose_grader",
        ),
        skippable_node(
            fold_average.study_fold_choices,
            [
                "study_fold_predictions",
                "study_fold_graders",
                "chosen_grader",
                "calibration",
                "label_priors",
                "judging",
            ],
            [
                "fold_average_metrics",
                "fold_average_predictions",
                "fold_graders",
                "out_of_fold_predictions",
            ],
            skipped(nothing, fold_average.no_fold_average, dict, no_study_folds),
        ),
        *_context_nodes(),
        Node(
            shipped.ship_grader,
            [
                "chosen_grader",
                "grader_models",
                "calibration",
                "context_model",
                "fold_graders",
                "params:roi",
                "recipe",
            ],
            ["shipped_grader", "decisions"],
            name="ship_grader",
        ),
    ]


def _context_nodes() -> list[Node]:
    """The study-context head against the chosen grader, on its features
    (``context.chosen_features``, ``context.grade_in_context``)."""
    return [
        skippable_node(
            context.chosen_features,
            ["disc_rois", "roi_index", "grader_models", "chosen_grader", "recipe"],
            "chosen_features",
            empty_frame,
            arg=1,
        ),
        skippable_node(
            context.grade_in_context,
            [
                "chosen_features",
                "predictions",
                "calibration",
                "chosen_grader",
                "study_fold_features",
                "out_of_fold_predictions",
                "site_fold_features",
                "site_fold_predictions",
                "label_priors",
                "judging",
            ],
            ["context_model", "context_metrics", "context_predictions", "joint_features"],
            skipped(dict, nothing, empty_predictions, empty_frame),
        ),
    ]
