"""Inference: a folder of studies (``--params=input_root=...``) and the model bundle -> grades,
submission, figures (``disc-grade grade`` runs this pipeline on any DICOM folder).

Headers are scanned with the ingestion code; then per condition (a namespace, as in training):
its series, its targets found by its localiser, cropped by the training cropper, graded. The
canal comes first: the points its localiser finds give the foramina their midline and the axial
slices their levels. The 25-row submission is assembled from the conditions' tables.
"""

from kedro.pipeline import Node, Pipeline

from disc_grade.conditions import CANAL, CONDITION_NAMES, spec_of
from disc_grade.pipelines.inference.nodes import (
    apply_joint_head,
    assemble_submission,
    choose_inference_series,
    find_condition_targets,
    grade_condition,
    locate_inference_landmarks,
    plot_studies,
)
from disc_grade.pipelines.ingestion.nodes import scan_dicom_headers, summarise_series

SHARED = {
    "inference_series_choice",
    "inference_series",
    "inference_dicom_index",
    "inference_images",
    "inference_landmarks",
    "model_bundle",
}


def _condition(name: str) -> Pipeline:
    """The inference of one condition, under its namespace (reads the model bundle)."""
    landmarks = ["inference_landmarks"] if spec_of(name).needs_landmarks else []
    nodes = [
        Node(
            find_condition_targets,
            [
                "inference_series_choice",
                "inference_series",
                "inference_dicom_index",
                "inference_images",
                "model_bundle",
                "params:name",
                *landmarks,
            ],
            ["inference_targets", "inference_missing"],
            name="find_targets",
        ),
        Node(
            grade_condition,
            [
                "inference_targets",
                "inference_missing",
                "inference_series",
                "inference_images",
                "model_bundle",
                "params:name",
                "params:inference",
            ],
            ["inference_graded", "inference_features"],
            name="grade_targets",
        ),
    ]
    shared = SHARED if landmarks else SHARED - {"inference_landmarks"}
    return Pipeline(nodes, namespace=name, inputs=shared, parameters={"params:inference"})


def create_pipeline(**kwargs) -> Pipeline:
    shared = Pipeline(
        [
            Node(
                scan_dicom_headers,
                ["inference_images", "params:ingestion"],
                "inference_dicom_index",
                name="scan_inference_headers",
            ),
            Node(
                summarise_series,
                "inference_dicom_index",
                "inference_series",
                name="summarise_inference_series",
            ),
            Node(
                choose_inference_series,
                ["inference_series", "params:inference"],
                "inference_series_choice",
                name="choose_inference_series",
            ),
            Node(
                locate_inference_landmarks,
                [f"{CANAL}.inference_targets", "inference_dicom_index"],
                "inference_landmarks",
                name="locate_inference_landmarks",
            ),
            Node(
                apply_joint_head,
                [
                    "model_bundle",
                    *[f"{c}.inference_graded" for c in CONDITION_NAMES],
                    *[f"{c}.inference_features" for c in CONDITION_NAMES],
                ],
                [f"{c}.inference_grades" for c in CONDITION_NAMES],
                name="apply_joint_head",
            ),
            Node(
                assemble_submission,
                [
                    "inference_dicom_index",
                    "model_bundle",
                    *[f"{c}.inference_grades" for c in CONDITION_NAMES],
                ],
                ["inference_grades", "submission"],
                name="assemble_submission",
            ),
            Node(
                plot_studies,
                ["inference_grades", "inference_series", "inference_images"],
                "inference_figures",
                name="plot_inference_studies",
            ),
        ]
    )
    return shared + sum((_condition(c) for c in CONDITION_NAMES), start=Pipeline([]))
