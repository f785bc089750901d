"""split: train.csv + series -> one split per study, the canal landmarks, the training priors."""

from kedro.pipeline import Node, Pipeline

from disc_grade.pipelines.split.nodes import (
    describe_data_source,
    locate_landmarks,
    split_studies,
    training_priors,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                describe_data_source,
                ["train_labels", "params:raw_root"],
                "data_source",
                name="describe_data_source",
            ),
            Node(
                split_studies,
                ["train_labels", "series", "holdout_suggestion", "params:split"],
                "study_splits",
                name="split_studies",
            ),
            Node(
                locate_landmarks,
                ["label_coordinates", "dicom_index"],
                "landmarks",
                name="locate_landmarks",
            ),
            Node(
                training_priors,
                ["train_labels", "study_splits"],
                "label_priors",
                name="training_priors",
            ),
        ]
    )
