"""Localisation: labelled sagittal T2 series -> a disc localiser (mid slice + five canal points)."""

from kedro.pipeline import Node, Pipeline

from disc_grade.pipelines.localisation.nodes import (
    evaluate_disc_localiser,
    prepare_localiser_data,
    train_disc_localiser,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                prepare_localiser_data,
                ["discs", "series", "train_images", "params:localiser"],
                ["localiser_grids", "localiser_grid_index", "localiser_targets"],
                name="prepare_localiser_data",
            ),
            Node(
                train_disc_localiser,
                [
                    "localiser_grids",
                    "localiser_grid_index",
                    "localiser_targets",
                    "params:localiser",
                ],
                ["localiser_model", "localiser_curve"],
                name="train_disc_localiser",
            ),
            Node(
                evaluate_disc_localiser,
                [
                    "localiser_model",
                    "localiser_grids",
                    "localiser_grid_index",
                    "discs",
                    "params:localiser",
                ],
                ["localiser_metrics", "localiser_errors"],
                name="evaluate_disc_localiser",
            ),
        ]
    )
