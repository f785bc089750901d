"""condition: one modular pipeline, instantiated per condition with ``namespace=``.

After ``rois`` (alignment, crops) and ``folds`` (the study and site folds, read back here):
localise (train, evaluate) -> the recipe and how choices are judged, parsed once -> encoder ->
three fine-tuned variants (one node) -> calibration (fitted on validation) -> metrics, ceiling,
figures, Grad-CAM, end-to-end grading at the localiser's points -> the grader validation
chooses -> the shipped grader (docs/architecture.md lists the twenty nodes).
Kedro's "reuse pipelines with namespaces": the spinal canal, the foramina and the recesses are
``spinal``, ``foraminal`` and ``subarticular``; what differs between them is their parameter block
(``conf/base/parameters_conditions.yml``) and their spec (``disc_grade.conditions``). A condition
without a training target is skipped node by node (``skip``).
"""

from functools import partial

from kedro.pipeline import Node, Pipeline

from disc_grade.conditions import CONDITION_NAMES
from disc_grade.models.grading.predict import empty_predictions
from disc_grade.models.training import contrastive_stage
from disc_grade.pipelines.condition import grade, localise
from disc_grade.pipelines.condition.choice_wiring import choose
from disc_grade.pipelines.condition.grade import VARIANTS
from disc_grade.pipelines.condition.measure_wiring import bundle_nodes, measure_nodes
from disc_grade.pipelines.condition.shared import SHARED
from disc_grade.pipelines.condition.skip import (
    empty_frame,
    empty_grids,
    nothing,
    skippable_node,
    skipped,
    skipped_figure,
)
from disc_grade.selection.fold_cells import gather_cells, no_features, no_fold_rows
from disc_grade.selection.judging import condition_settings


def _localise() -> list[Node]:
    return [
        skippable_node(
            localise.prepare_localiser,
            ["targets", "series", "dicom_index", "train_images", "params:name", "params:localiser"],
            ["localiser_grids", "localiser_grid_index", "localiser_units"],
            skipped(empty_grids, empty_frame, empty_frame),
        ),
        skippable_node(
            localise.train_localiser,
            [
                "localiser_grids",
                "localiser_grid_index",
                "localiser_units",
                "offsets",
                "params:name",
                "params:localiser",
                "params:alignment",
            ],
            ["localiser_model", "localiser_curve"],
            skipped(dict, empty_frame),
            arg=2,
        ),
        skippable_node(
            localise.evaluate_localiser,
            [
                "localiser_model",
                "targets",
                "series",
                "dicom_index",
                "series_descriptions",
                "train_images",
                "landmarks",
                "params:name",
                "params:localiser",
            ],
            ["localiser_metrics", "localiser_errors"],
            skipped(nothing, empty_frame),
        ),
    ]


def _grade() -> list[Node]:
    return [
        Node(
            condition_settings,
            [
                "params:pretraining",
                "params:finetuning",
                "params:finetuning_variants",
                "params:selection",
                "params:calibration",
                "params:evaluation",
                "params:leave_site_out",
            ],
            ["recipe", "judging"],
            name="condition_settings",
        ),
        skippable_node(
            contrastive_stage.pretrain_contrastive_encoder,
            ["disc_rois", "roi_index", "phantom_truth", "recipe"],
            ["encoder", "pretraining_curve", "pretraining_curves_figure", "encoder_probe"],
            skipped(dict, empty_frame, skipped_figure, nothing),
            arg=1,
        ),
        skippable_node(
            grade.finetune_variants,
            ["disc_rois", "roi_index", "encoder", "recipe"],
            [
                "grader_models",
                *[f"{v}.training_curve" for v in VARIANTS],
                "variant_predictions",
            ],
            skipped(dict, *[empty_frame for _ in VARIANTS], empty_predictions),
            arg=1,
        ),
        skippable_node(
            gather_cells,
            [
                "fold_cells",
                "fold_feature_cells",
                "fold_weight_cells",
                "disc_rois",
                "roi_index",
                "study_splits",
                "recipe",
                "params:leave_site_out",
                "params:name",
            ],
            ["fold_predictions", "fold_features", "study_fold_graders"],
            skipped(no_fold_rows, partial(no_fold_rows, no_features), dict),
            arg=4,
        ),
    ]


def condition_pipeline() -> Pipeline:
    """The modular pipeline every condition instantiates (its datasets not yet namespaced)."""
    return Pipeline([*_localise(), *_grade(), *measure_nodes(), *choose(), *bundle_nodes()])


def for_condition(name: str) -> Pipeline:
    """The condition pipeline under ``namespace=name``."""
    base = condition_pipeline()
    return Pipeline(base, namespace=name, inputs=SHARED & base.inputs())


def create_pipeline(**kwargs) -> Pipeline:
    return sum((for_condition(name) for name in CONDITION_NAMES), start=Pipeline([]))
