"""Alignment: RSNA CSVs + ``series`` -> ``discs`` (split by study) and ``alignment_exclusions``."""

from kedro.pipeline import Node, Pipeline

from disc_grade.pipelines.alignment.nodes import (
    align_disc_labels,
    describe_data_source,
    split_studies,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                align_disc_labels,
                ["train_labels", "label_coordinates", "series_descriptions", "series"],
                ["aligned_discs", "alignment_exclusions"],
                name="align_disc_labels",
            ),
            Node(
                describe_data_source,
                ["train_labels", "params:raw_root"],
                "data_source",
                name="describe_data_source",
            ),
            Node(
                split_studies,
                ["aligned_discs", "holdout_suggestion", "params:alignment.split"],
                "discs",
                name="split_studies",
            ),
        ]
    )
