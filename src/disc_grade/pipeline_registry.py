"""Project pipelines: every ``pipelines/<name>`` package; ``train`` is the default."""

from __future__ import annotations

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines.

    ``rois``, ``folds`` and ``condition`` hold every condition as a namespace
    (``kedro run --pipelines=rois,folds,condition --namespaces=foraminal`` runs one);
    ``train`` chains the stages after the raw data and is the default.
    """
    pipelines = find_pipelines(raise_errors=True)  # Kedro may load only the requested ones
    if "train" in pipelines:
        pipelines["__default__"] = pipelines["train"]
    return pipelines
