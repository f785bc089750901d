"""The condition pipeline's choices: the grader validation (or the folds) chooses, its study-fold
models' average and out-of-fold rows, the features the joint head reads, and what ships."""

from kedro.pipeline import Node

from disc_grade.pipelines.condition.skip import (
    empty_frame,
    nothing,
    skippable_node,
    skipped,
)
from disc_grade.selection import chosen_features, fold_average, shipped
from disc_grade.selection.fold_cells import no_study_folds


def choose() -> list[Node]:
    """The grader validation chooses, its fold models' average and out-of-fold rows, then the
    features the joint head reads, then what ships."""
    return [
        skippable_node(
            fold_average.choose_grader,
            [
                "predictions",
                "calibration",
                "fold_predictions",
                "study_fold_graders",
                "label_priors",
                "judging",
            ],
            [
                "chosen_grader",
                "fold_average_metrics",
                "fold_average_predictions",
                "fold_graders",
                "out_of_fold_predictions",
            ],
            skipped(nothing, nothing, fold_average.no_fold_average, dict, no_study_folds),
        ),
        *_feature_nodes(),
        Node(
            shipped.ship_grader,
            [
                "chosen_grader",
                "grader_models",
                "calibration",
                "fold_graders",
                "params:roi",
                "recipe",
            ],
            ["shipped_grader", "decisions"],
            name="ship_grader",
        ),
    ]


def _feature_nodes() -> list[Node]:
    """The chosen grader's features, and those the joint head reads
    (``chosen_features.chosen_features``, ``chosen_features.joint_features``)."""
    return [
        skippable_node(
            chosen_features.chosen_features,
            ["disc_rois", "roi_index", "grader_models", "chosen_grader", "recipe"],
            "chosen_features",
            empty_frame,
            arg=1,
        ),
        skippable_node(
            chosen_features.joint_features,
            [
                "chosen_features",
                "calibration",
                "chosen_grader",
                "fold_features",
                "fold_predictions",
                "label_priors",
                "judging",
            ],
            ["feature_probe", "joint_features"],
            skipped(nothing, empty_frame),
        ),
    ]
