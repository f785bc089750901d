"""Nodes of the bundle pipeline: each condition's shipped localiser and grader, then the bundle.

Only what grading needs ships: the localiser and its find settings, the variant validation
chose with its calibration, its study-fold models where they ship; not the other variants.
"""

from __future__ import annotations

import pandas as pd

from disc_grade.conditions import CONDITION_NAMES
from disc_grade.evaluation.report_summary import shipped
from disc_grade.pipelines.condition.skip import is_skipped
from disc_grade.shipping.contents import figures, fingerprint, metadata


def ship_condition(localiser: dict, grader: dict, results: dict) -> dict:
    """A condition's shipped models (the localiser as ``train_localiser`` ships it, the grader
    as ``selection.shipped`` does; {} where the condition was skipped) and its test figures
    (``report_summary.shipped``)."""
    localiser = {} if is_skipped(localiser) else localiser
    name, by_split = shipped(results) if grader else ("not trained", {})
    return {"localiser": localiser, "grader": grader, "figures": {"grader": name, **by_split}}


def make_bundle(
    label_priors: pd.DataFrame,
    joint_model: dict,
    data_source: dict,
    study_splits: pd.DataFrame,
    rsna_score: dict,
    *conditions: dict,
) -> dict:
    """The bundle (``datasets.model_bundle``): metadata, every model, the grade frequencies
    (``conditions``: each condition's ``ship_condition``, in ``CONDITION_NAMES`` order)."""
    by_name = dict(zip(CONDITION_NAMES, conditions, strict=True))
    models = {
        "conditions": {
            n: {"localiser": c["localiser"], "grader": c["grader"]} for n, c in by_name.items()
        },
        "joint": joint_model,
    }
    test_figures = figures(
        {n: (c["figures"]["grader"], c["figures"]) for n, c in by_name.items() if c["grader"]},
        rsna_score,
    )
    meta = metadata(fingerprint(data_source, study_splits), test_figures, models["conditions"])
    return {"metadata": meta, "models": models, "label_priors": label_priors}
