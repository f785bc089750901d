"""bundle: every condition's shipped models, the joint head and the test figures -> one
self-describing model bundle (``data/06_models/bundle``), which inference and ``disc-grade
grade`` read."""

from kedro.pipeline import Node, Pipeline

from disc_grade.conditions import CONDITION_NAMES
from disc_grade.pipelines.bundle.nodes import make_bundle, ship_condition


def _condition(name: str) -> Pipeline:
    nodes = [
        Node(
            ship_condition,
            ["localiser_model", "shipped_grader", "results"],
            "shipped",
            name="ship_condition",
        ),
    ]
    return Pipeline(nodes, namespace=name)


def create_pipeline(**kwargs) -> Pipeline:
    bundle = Node(
        make_bundle,
        [
            "label_priors",
            "joint_model",
            "data_source",
            "study_splits",
            "rsna_score",
            *[f"{c}.shipped" for c in CONDITION_NAMES],
        ],
        "model_bundle",
        name="make_bundle",
    )
    return sum((_condition(c) for c in CONDITION_NAMES), start=Pipeline([bundle]))
