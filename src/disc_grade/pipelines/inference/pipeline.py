"""Inference: a folder of studies (``--params=input_root=...``) -> grades, submission CSV, figures.

Headers are scanned with the ingestion code, ROIs cut with the training cropper, and the discs
found by the localiser trained in ``train``.
"""

from kedro.pipeline import Node, Pipeline

from disc_grade.pipelines.finetuning.pipeline import VARIANTS
from disc_grade.pipelines.inference.nodes import (
    grade_families,
    grade_studies,
    localise_studies,
    plot_studies,
    select_series,
)
from disc_grade.pipelines.ingestion.nodes import scan_dicom_headers, summarise_series


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
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
                select_series,
                ["inference_dicom_index", "inference_series", "params:inference"],
                "inference_targets",
                name="select_sagittal_t2",
            ),
            Node(
                localise_studies,
                [
                    "inference_targets",
                    "inference_series",
                    "inference_images",
                    "localiser_model",
                    "params:localiser",
                    "params:inference",
                ],
                "inference_points",
                name="localise_discs",
            ),
            Node(
                grade_families,
                [
                    "inference_targets",
                    "inference_points",
                    "inference_dicom_index",
                    "inference_series",
                    "inference_images",
                    "foraminal.placement",
                    "subarticular.placement",
                    "foraminal.localiser_model",
                    "subarticular.localiser_model",
                    *[
                        f"{family}.{variant}.grader_model"
                        for family in ("foraminal", "subarticular")
                        for variant in VARIANTS
                    ],
                    "params:families",
                    "params:localiser",
                    "params:finetuning",
                    "params:inference",
                ],
                "inference_family_grades",
                name="grade_foramina_and_recesses",
            ),
            Node(
                grade_studies,
                [
                    "inference_targets",
                    "inference_points",
                    "inference_series",
                    "inference_images",
                    "contrastive.grader_model",
                    "scratch.grader_model",
                    "frozen.grader_model",
                    "inference_family_grades",
                    "params:roi",
                    "params:finetuning",
                    "params:inference",
                ],
                ["inference_grades", "submission"],
                name="grade_discs",
            ),
            Node(
                plot_studies,
                ["inference_grades", "inference_series", "inference_images"],
                "inference_figures",
                name="plot_inference_studies",
            ),
        ]
    )
