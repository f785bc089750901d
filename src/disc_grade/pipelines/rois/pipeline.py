"""rois: a condition's targets aligned with its series, and one crop per disc.

What a condition's study folds (``folds``) and its grading (``condition``) both read, so it is a
stage of its own: under each condition's namespace (``kedro run --pipelines=rois
--namespaces=foraminal`` aligns and crops one).
"""

from kedro.pipeline import Node, Pipeline

from disc_grade.alignment import condition_targets as align
from disc_grade.conditions import CONDITION_NAMES
from disc_grade.pipelines.condition import grade
from disc_grade.pipelines.condition.shared import SHARED
from disc_grade.pipelines.condition.skip import (
    empty_rois,
    nothing,
    skippable_node,
)


def _align() -> list[Node]:
    return [
        Node(
            align.align_condition,
            [
                "train_labels",
                "label_coordinates",
                "series_descriptions",
                "series",
                "dicom_index",
                "study_splits",
                "landmarks",
                "params:name",
                "params:alignment",
            ],
            ["targets", "alignment_exclusions", "alignment_reconciliation", "status"],
            name="align_condition",
        ),
        skippable_node(
            align.learn_offsets,
            ["targets", "landmarks", "dicom_index", "params:name"],
            "offsets",
            nothing,
        ),
    ]


def _crop() -> list[Node]:
    return [
        skippable_node(
            grade.crop_rois,
            ["targets", "series", "train_images", "params:roi"],
            ["disc_rois", "roi_index", "roi_exclusions"],
            empty_rois,
        ),
    ]


def rois_pipeline() -> Pipeline:
    """The modular pipeline every condition instantiates (its datasets not yet namespaced)."""
    return Pipeline([*_align(), *_crop()])


def create_pipeline(**kwargs) -> Pipeline:
    base = rois_pipeline()
    return sum(
        (Pipeline(base, namespace=c, inputs=SHARED & base.inputs()) for c in CONDITION_NAMES),
        start=Pipeline([]),
    )
