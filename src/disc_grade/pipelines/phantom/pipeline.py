"""Phantom pipeline: params -> RSNA-layout cohort in 01_raw, plus a preview figure."""

from kedro.pipeline import Node, Pipeline

from disc_grade.pipelines.phantom.nodes import draw_atlas, make_phantom_cohort, preview_phantom


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=make_phantom_cohort,
                inputs=["params:phantom", "params:raw_root"],
                outputs=[
                    "train_labels",
                    "label_coordinates",
                    "series_descriptions",
                    "train_images",
                    "phantom_truth",
                    "holdout_suggestion",
                ],
                name="make_phantom_cohort",
            ),
            Node(
                func=draw_atlas, inputs="params:phantom", outputs="phantom_atlas", name="draw_atlas"
            ),
            Node(
                func=preview_phantom,
                inputs=["train_images", "label_coordinates", "train_labels"],
                outputs="phantom_preview",
                name="preview_phantom",
            ),
        ]
    )
