"""train = ingestion + alignment + roi + localisation + pretraining + finetuning + families + evaluation.

A package of its own so that Kedro's pipeline discovery finds it by name
(``kedro run --pipeline=train``). It never includes the phantom, so it runs unchanged on the
real RSNA download. The stages are imported explicitly: a missing stage is an import error,
never a silently shorter pipeline.
"""

from kedro.pipeline import Pipeline

from disc_grade.pipelines import (
    alignment,
    evaluation,
    families,
    finetuning,
    ingestion,
    localisation,
    pretraining,
    roi,
)

# the stages that turn raw studies into results, in order (dvc.yaml has one stage for each)
STAGES = {
    "ingestion": ingestion,
    "alignment": alignment,
    "roi": roi,
    "localisation": localisation,
    "pretraining": pretraining,
    "finetuning": finetuning,
    "families": families,
    "evaluation": evaluation,
}
TRAIN_STAGES = tuple(STAGES)


def create_pipeline(**kwargs) -> Pipeline:
    return sum((stage.create_pipeline() for stage in STAGES.values()), start=Pipeline([]))
