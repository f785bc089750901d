"""Project pipelines: every ``pipelines/<name>`` plus the ``train`` aggregate."""

from __future__ import annotations

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

# the stages that turn raw studies into results, in order; each joins once it exists
TRAIN_STAGES = ("ingestion", "alignment", "roi", "pretraining", "finetuning", "evaluation")


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines.

    ``train`` chains the stages after the raw data (never the phantom, so it runs unchanged
    on the real download) and is the default.
    """
    pipelines = find_pipelines(raise_errors=True)
    stages = [pipelines[name] for name in TRAIN_STAGES if name in pipelines]
    pipelines["train"] = sum(stages, start=Pipeline([])) if stages else pipelines["phantom"]
    pipelines["__default__"] = pipelines["train"]
    return pipelines
