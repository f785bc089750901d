"""Inference: a folder of studies (``--params=input_root=...``) -> grades, submission, figures.

Headers are scanned with the ingestion code; then per condition (a namespace, as in training):
its series, its targets found by its localiser, cropped by the training cropper, graded. The
canal comes first: the points its localiser finds give the foramina their midline and the axial
slices their levels. The 25-row submission is assembled from the conditions' tables.
"""

from kedro.pipeline import Node, Pipeline

from disc_grade.conditions import CANAL, CONDITION_NAMES, spec_of
from disc_grade.pipelines.condition.grade import VARIANTS
from disc_grade.pipelines.condition.skip import empty_frame, skipped, skipped_when_empty
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
    "label_priors",
}


def _condition(name: str) -> Pipeline:
    """The inference of one condition, under its namespace (reads the models ``train`` wrote)."""
    landmarks = ["inference_landmarks"] if spec_of(name).needs_landmarks else []
    nodes = [
        Node(
            skipped_when_empty(find_condition_targets, skipped(empty_frame, empty_frame), arg=4),
            [
                "inference_series_choice",
                "inference_series",
                "inference_dicom_index",
                "inference_images",
                "localiser_model",
                "offsets",
                "params:name",
                "params:localiser",
                "params:alignment",
                *landmarks,
            ],
            ["inference_targets", "inference_missing"],
            name="find_targets",
        ),
        Node(
            skipped_when_empty(grade_condition, skipped(empty_frame, empty_frame), arg=4),
            [
                "inference_targets",
                "inference_missing",
                "inference_series",
                "inference_images",
                *[f"{v}.grader_model" for v in VARIANTS],
                "calibration",
                "chosen_grader",
                "context_model",
                "fold_graders",
                "label_priors",
                "params:roi",
                "params:finetuning",
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
                    "joint_model",
                    "label_priors",
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
                    "label_priors",
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
