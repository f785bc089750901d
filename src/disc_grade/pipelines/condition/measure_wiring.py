"""The condition pipeline's second half: calibration, metrics, ceiling and floor, figures,
Grad-CAM, and grading at the localiser's points (the choices between them: ``choice_wiring``)."""

from kedro.pipeline import Node

from disc_grade.models.grading.predict import empty_predictions
from disc_grade.pipelines.condition import bundle, grade, measure
from disc_grade.pipelines.condition.grade import VARIANTS
from disc_grade.pipelines.condition.skip import (
    empty_frame,
    nothing,
    skippable_node,
    skipped,
    skipped_figure,
)
from disc_grade.selection import calibration


def gather() -> list[Node]:
    """Every variant's predictions calibrated on validation, in one table; their curves."""
    return [
        skippable_node(
            calibration.calibrate_predictions,
            [
                "label_priors",
                "params:calibration",
                "study_fold_predictions",
                "site_fold_predictions",
                "params:leave_site_out",
                *[f"{v}.variant_predictions" for v in VARIANTS],
            ],
            ["calibration", "predictions"],
            skipped(nothing, empty_predictions),
            arg=5,
        ),
        skippable_node(
            grade.plot_finetuning_curves,
            [f"{v}.training_curve" for v in VARIANTS],
            "finetuning_curves_figure",
            skipped_figure,
        ),
    ]


def _figures() -> list[Node]:
    graders = [f"{v}.grader_model" for v in VARIANTS]
    confusions = {f"{v}_confusion": f"{v}_confusion" for v in VARIANTS}
    return [
        skippable_node(
            measure.confusion_pairs,
            "predictions",
            confusions,
            lambda: {k: empty_frame() for k in confusions},
        ),
        skippable_node(measure.plot_confusion, "predictions", "confusion_figure", skipped_figure),
        skippable_node(measure.plot_per_level, "metrics", "per_level_figure", skipped_figure),
        skippable_node(
            measure.plot_reliability,
            ["predictions", "params:evaluation"],
            "reliability_figure",
            skipped_figure,
        ),
        skippable_node(
            measure.plot_worst_errors,
            [
                "predictions",
                "disc_rois",
                "roi_index",
                *graders,
                "params:finetuning",
                "params:evaluation",
            ],
            "worst_errors_figure",
            skipped_figure,
        ),
    ]


def measure_nodes() -> list[Node]:
    graders = [f"{v}.grader_model" for v in VARIANTS]
    return [
        skippable_node(
            measure.compute_metrics, ["predictions", "params:evaluation"], "metrics", nothing
        ),
        skippable_node(
            measure.compute_ceiling,
            ["phantom_truth", "predictions", "params:name"],
            "ceiling",
            nothing,
            arg=1,
        ),
        *_figures(),
        skippable_node(
            measure.grade_end_to_end,
            [
                "localiser_errors",
                "series",
                "train_images",
                *graders,
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
            bundle.techniques,
            "params:roi",
            "techniques",
            name="techniques",
        ),
        Node(
            bundle.bundle_results,
            [*bundle.RESULTS, *bundle.TABLES],
            "results",
            name="bundle_results",
        ),
        Node(
            bundle.bundle_figures,
            [f"{name}_figure" for name in bundle.REPORT_FIGURES],
            "report_figures",
            name="bundle_figures",
        ),
        skippable_node(
            bundle.scored_predictions,
            [
                "predictions",
                "context_predictions",
                "chosen_grader",
                "context_model",
                "out_of_fold_predictions",
                "fold_average_predictions",
            ],
            "scored_predictions",
            empty_predictions,
        ),
    ]
