"""train = ingestion + split + every condition (spinal, foraminal, subarticular: its crops, its study
and leave-site-out folds, its grading) + joint + report + bundle (what ships, as one folder).

A package of its own so that Kedro's pipeline discovery finds it by name
(``kedro run --pipeline=train``). It never includes the phantom, so it runs unchanged on the
real RSNA download. The stages are imported explicitly: a missing stage is an import error,
never a silently shorter pipeline.
"""

from kedro.pipeline import Pipeline

from disc_grade.conditions import CONDITION_NAMES
from disc_grade.pipelines import (
    bundle,
    condition,
    folds,
    ingestion,
    joint,
    report,
    rois,
    split,
)

# the stages that turn raw studies into results, in order (dvc.yaml has one stage for each;
# rois crops every condition, folds is one cell per study or leave-site-out fold, a condition's
# stage runs its namespace of the condition pipeline)
TRAIN_STAGES = (
    "ingestion",
    "split",
    "rois",
    "folds",
    *CONDITION_NAMES,
    "joint",
    "report",
    "bundle",
)


def create_pipeline(**kwargs) -> Pipeline:
    return sum(
        (
            m.create_pipeline()
            for m in (ingestion, split, rois, folds, condition, joint, report, bundle)
        ),
        start=Pipeline([]),
    )
