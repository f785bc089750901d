"""train = ingestion + alignment + roi + localisation + pretraining + finetuning + evaluation.

A package of its own so that Kedro's selective pipeline discovery finds it by name
(``kedro run --pipeline=train``). It never includes the phantom, so it runs unchanged on the
real RSNA download.
"""

import importlib

from kedro.pipeline import Pipeline

# the stages that turn raw studies into results, in order; each joins once it exists
TRAIN_STAGES = (
    "ingestion",
    "alignment",
    "roi",
    "localisation",
    "pretraining",
    "finetuning",
    "evaluation",
)


def available_stages() -> list[str]:
    """The stages of ``TRAIN_STAGES`` that exist in this checkout."""
    stages = []
    for name in TRAIN_STAGES:
        try:
            importlib.import_module(f"disc_grade.pipelines.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"disc_grade.pipelines.{name}":
                raise
            continue
        stages.append(name)
    return stages


def create_pipeline(**kwargs) -> Pipeline:
    return sum(
        (
            importlib.import_module(f"disc_grade.pipelines.{name}").create_pipeline()
            for name in available_stages()
        ),
        start=Pipeline([]),
    )
