"""Ingestion: raw image tree -> ``dicom_index`` (one row per file) -> ``series``."""

from kedro.pipeline import Node, Pipeline

from disc_grade.pipelines.ingestion.nodes import scan_dicom_headers, summarise_series


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                scan_dicom_headers,
                ["train_images", "params:ingestion"],
                "dicom_index",
                name="scan_dicom_headers",
            ),
            Node(summarise_series, "dicom_index", "series", name="summarise_series"),
        ]
    )
