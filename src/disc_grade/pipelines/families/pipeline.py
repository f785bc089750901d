"""Families: the foraminal and subarticular conditions, each a namespace running the canal's recipe.

Per family: ``align_family_targets`` -> ``extract_disc_rois`` -> ``family_encoder`` (own
pretraining or the canal's encoder) -> the three fine-tuning variants -> ``family_metrics``;
beside them the family's localiser (heatmaps and presence, as the canal's) is trained on the
same targets and measured against placing the targets from the canal points.
``full_rsna_score`` then scores all 25 targets of the test studies.
"""

import numpy as np
import pandas as pd
from kedro.pipeline import Node, Pipeline

from disc_grade.pipelines.families.nodes import (
    align_family_targets,
    evaluate_family_localiser,
    family_ceiling,
    family_encoder,
    family_metrics,
    finetuning_settings,
    full_rsna_score,
    learn_placement,
    prepare_family_localiser,
    train_family_localiser,
)
from disc_grade.pipelines.families.skip import (
    SKIPPED,
    empty_predictions,
    empty_rois,
    skipped_figure,
    skipped_when_empty,
)
from disc_grade.pipelines.finetuning.nodes import combine_predictions, finetune_variant
from disc_grade.pipelines.finetuning.pipeline import VARIANTS
from disc_grade.pipelines.roi.nodes import extract_disc_rois, plot_roi_gallery

# a family without training targets (families.skip): each node's output when it has no input
NO_FRAME = pd.DataFrame
SKIPPABLE = {
    "learn_placement": (learn_placement, lambda: dict(SKIPPED), 0),
    "prepare_family_localiser": (
        prepare_family_localiser,
        lambda: (np.zeros((0, 1, 1), np.float16), NO_FRAME(), NO_FRAME()),
        0,
    ),
    "train_family_localiser": (train_family_localiser, lambda: ({}, NO_FRAME()), 2),
    "evaluate_family_localiser": (
        evaluate_family_localiser,
        lambda: (dict(SKIPPED), NO_FRAME()),
        0,
    ),
    "extract_family_rois": (extract_disc_rois, lambda: empty_rois(1), 0),
    "plot_roi_gallery": (plot_roi_gallery, skipped_figure, 1),
    "family_encoder": (family_encoder, lambda: ({}, dict(SKIPPED)), 1),
    "finetune_variant": (
        finetune_variant,
        lambda: ({}, NO_FRAME(), empty_predictions()),
        1,
    ),
    "combine_predictions": (combine_predictions, empty_predictions, 0),
    "family_metrics": (family_metrics, lambda: dict(SKIPPED), 0),
    "family_ceiling": (family_ceiling, lambda: dict(SKIPPED), 1),
}


def _skippable(name: str):
    func, empty, arg = SKIPPABLE[name]
    return skipped_when_empty(func, empty, arg)


FAMILIES = ("foraminal", "subarticular")
SHARED_INPUTS = {
    "train_labels",
    "label_coordinates",
    "series_descriptions",
    "series",
    "dicom_index",
    "discs",
    "train_images",
    "pretrained_encoder",
    "phantom_truth",
}


def _family(family: str) -> Pipeline:
    own = f"params:families.{family}"
    nodes = [
        Node(
            align_family_targets,
            [
                "train_labels",
                "label_coordinates",
                "series_descriptions",
                "series",
                "dicom_index",
                "discs",
                own,
            ],
            ["targets", "alignment_exclusions", "alignment_reconciliation", "status"],
            name="align_family_targets",
        ),
        Node(
            _skippable("learn_placement"),
            ["targets", "discs", "dicom_index", own],
            "placement",
            name="learn_placement",
        ),
        Node(
            _skippable("prepare_family_localiser"),
            ["targets", "series", "dicom_index", "train_images", "params:localiser", own],
            ["localiser_grids", "localiser_grid_index", "localiser_units"],
            name="prepare_family_localiser",
        ),
        Node(
            _skippable("train_family_localiser"),
            [
                "localiser_grids",
                "localiser_grid_index",
                "localiser_units",
                "params:localiser",
                own,
            ],
            ["localiser_model", "localiser_curve"],
            name="train_family_localiser",
        ),
        Node(
            _skippable("evaluate_family_localiser"),
            [
                "localiser_model",
                "placement",
                "targets",
                "discs",
                "series",
                "dicom_index",
                "series_descriptions",
                "train_images",
                "params:localiser",
                "params:inference.min_peak",
                own,
            ],
            ["localiser_metrics", "localiser_errors"],
            name="evaluate_family_localiser",
        ),
        Node(
            _skippable("extract_family_rois"),
            ["targets", "series", "train_images", f"{own}.roi"],
            ["disc_rois", "roi_index", "roi_exclusions"],
            name="extract_family_rois",
        ),
        Node(
            _skippable("plot_roi_gallery"),
            ["disc_rois", "roi_index"],
            "roi_gallery",
            name="plot_roi_gallery",
        ),
        Node(
            _skippable("family_encoder"),
            [
                "disc_rois",
                "roi_index",
                "pretrained_encoder",
                "phantom_truth",
                "params:pretraining",
                own,
            ],
            ["encoder", "encoder_probe"],
            name="family_encoder",
        ),
        Node(
            finetuning_settings,
            ["params:finetuning", own],
            "finetuning_settings",
            name="finetuning_settings",
        ),
        *[
            Node(
                _skippable("finetune_variant"),
                [
                    "disc_rois",
                    "roi_index",
                    "encoder",
                    "finetuning_settings",
                    f"params:finetuning_variants.{variant}",
                ],
                [
                    f"{variant}.grader_model",
                    f"{variant}.training_curve",
                    f"{variant}.variant_predictions",
                ],
                name=f"finetune_{variant}",
            )
            for variant in VARIANTS
        ],
        Node(
            _skippable("combine_predictions"),
            [f"{v}.variant_predictions" for v in VARIANTS],
            "predictions",
            name="combine_predictions",
        ),
        Node(
            _skippable("family_metrics"),
            ["predictions", "params:evaluation"],
            "metrics",
            name="family_metrics",
        ),
        Node(
            _skippable("family_ceiling"),
            ["phantom_truth", "predictions", own],
            "ceiling",
            name="family_ceiling",
        ),
    ]
    parameters = {
        own: own,
        f"{own}.roi": f"{own}.roi",
        "params:pretraining": "params:pretraining",
        "params:finetuning": "params:finetuning",
        "params:evaluation": "params:evaluation",
        "params:localiser": "params:localiser",
        "params:inference.min_peak": "params:inference.min_peak",
        **{f"params:finetuning_variants.{v}": f"params:finetuning_variants.{v}" for v in VARIANTS},
    }
    return Pipeline(nodes, namespace=family, inputs=SHARED_INPUTS, parameters=parameters)


def create_pipeline(**kwargs) -> Pipeline:
    score = Pipeline(
        [
            Node(
                full_rsna_score,
                [
                    "train_labels",
                    "discs",
                    "predictions",
                    *[f"{f}.predictions" for f in FAMILIES],
                ],
                "rsna_score",
                name="full_rsna_score",
            )
        ]
    )
    return sum((_family(f) for f in FAMILIES), start=Pipeline([])) + score
