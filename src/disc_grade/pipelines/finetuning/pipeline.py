"""Fine-tuning: the same modular pipeline under three namespaces, as the paper compares them.

- ``contrastive``: encoder from pretraining, lower learning rate for it;
- ``scratch``: same network, random initialisation;
- ``frozen``: pretrained encoder frozen, heads only.
Each writes ``<variant>.grader_model``; ``predictions`` stacks their validation/test predictions.
"""

from kedro.pipeline import Node, Pipeline

from disc_grade.pipelines.finetuning.nodes import (
    combine_predictions,
    finetune_variant,
    plot_finetuning_curves,
)

VARIANTS = ("contrastive", "scratch", "frozen")


def by_variant(*per_variant):
    """One value per variant, given in the order of ``VARIANTS``, keyed by the variant's name."""
    return dict(zip(VARIANTS, per_variant, strict=True))


def _variant(name: str) -> Pipeline:
    base = Pipeline(
        [
            Node(
                finetune_variant,
                [
                    "disc_rois",
                    "roi_index",
                    "pretrained_encoder",
                    "params:finetuning",
                    "params:variant",
                ],
                ["grader_model", "training_curve", "variant_predictions"],
                name="finetune_variant",
            )
        ]
    )
    return Pipeline(
        base,
        namespace=name,
        inputs={"disc_rois", "roi_index", "pretrained_encoder"},
        parameters={
            "params:finetuning": "params:finetuning",
            "params:variant": f"params:finetuning_variants.{name}",
        },
    )


def create_pipeline(**kwargs) -> Pipeline:
    variants = sum((_variant(v) for v in VARIANTS), start=Pipeline([]))
    gather = Pipeline(
        [
            Node(
                combine_predictions,
                [f"{v}.variant_predictions" for v in VARIANTS],
                "predictions",
                name="combine_predictions",
            ),
            Node(
                plot_finetuning_curves,
                [f"{v}.training_curve" for v in VARIANTS],
                "finetuning_curve_plot",
                name="plot_finetuning_curves",
            ),
        ]
    )
    return variants + gather
