"""The condition pipeline's second half: calibration, what the predictions score (the worst
errors' Grad-CAM among the figures), grading at the localiser's points (the choices between them:
``choice_wiring``), and what the condition hands the report."""

from kedro.pipeline import Node

from disc_grade.models.grading.predict import empty_predictions
from disc_grade.pipelines.condition import bundle, measure
from disc_grade.pipelines.condition.grade import VARIANTS
from disc_grade.pipelines.condition.skip import (
    empty_frame,
    nothing,
    skippable_node,
    skipped,
    skipped_figure,
)
from disc_grade.selection import calibration

MEASURES = (
    "roi_gallery_figure",
    "metrics",
    "ceiling",
    *(f"{v}_confusion" for v in VARIANTS),
    "confusion_figure",
    "per_level_figure",
    "reliability_figure",
    "worst_errors_figure",
)


def measure_nodes() -> list[Node]:
    """Every variant's predictions calibrated on validation, in one table, and what they score;
    the same at the localiser's points."""
    return [
        skippable_node(
            calibration.calibrate_predictions,
            [
                "variant_predictions",
                "fold_predictions",
                "label_priors",
                "judging",
            ],
            ["calibration", "predictions"],
            skipped(nothing, empty_predictions),
        ),
        skippable_node(
            measure.measure_predictions,
            [
                "predictions",
                "phantom_truth",
                "disc_rois",
                "roi_index",
                "grader_models",
                "recipe",
                "params:evaluation",
                "params:name",
            ],
            list(MEASURES),
            skipped(
                skipped_figure,
                nothing,
                nothing,
                *[empty_frame for _ in VARIANTS],
                *[skipped_figure] * 4,
            ),
        ),
        skippable_node(
            measure.grade_end_to_end,
            [
                "localiser_errors",
                "series",
                "train_images",
                "grader_models",
                "calibration",
                "shipped_grader",
                "label_priors",
            ],
            ["end_to_end_predictions", "end_to_end_exclusions"],
            skipped(empty_predictions, empty_frame),
        ),
        skippable_node(
            measure.compute_metrics,
            ["end_to_end_predictions", "params:evaluation"],
            "end_to_end_metrics",
            nothing,
            name="compute_end_to_end_metrics",
        ),
    ]


def bundle_nodes() -> list[Node]:
    """What the condition hands the report: one summary, one set of figures, the predictions the
    RSNA score reads (``bundle``)."""
    return [
        Node(
            bundle.summarise_tables,
            ["status", *bundle.TABLES],
            "table_summaries",
            name="summarise_tables",
        ),
        Node(bundle.bundle_results, list(bundle.RESULTS), "results", name="bundle_results"),
        Node(
            bundle.bundle_figures,
            [
                *[f"{name}_figure" for name in bundle.DRAWN],
                *[f"{v}.training_curve" for v in VARIANTS],
            ],
            "report_figures",
            name="bundle_figures",
        ),
        skippable_node(
            bundle.scored_predictions,
            [
                "predictions",
                "chosen_grader",
                "out_of_fold_predictions",
                "fold_average_predictions",
            ],
            "scored_predictions",
            empty_predictions,
        ),
    ]
