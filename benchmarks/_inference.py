"""The inference pipeline itself (``kedro run --pipelines=inference``), run in this process.

The benchmarks time what a user runs: the project's own ``inference`` pipeline, its parameters
read by Kedro from ``conf/`` and its models loaded through the project's catalog, on a
``SequentialRunner`` whose outputs stay in memory (nothing is written under ``data/``). So a
benchmark cannot drift from the code it measures: a node, a parameter block or a catalog entry
that changes changes here too, and one that is missing fails here as it fails in ``kedro run``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
IMAGES, GRADES = "inference_images", "inference_grades"


def project_context(input_root: Path | str | None = None, env: str | None = None):
    """The project's ``KedroContext`` (``conf/base`` and ``env``), with ``input_root`` set."""
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(ROOT)
    runtime = {"input_root": str(input_root)} if input_root is not None else {}
    session = KedroSession.create(project_path=ROOT, env=env, runtime_params=runtime)
    return session.load_context()


def inference_pipeline():
    """The registered ``inference`` pipeline."""
    from kedro.framework.project import pipelines

    return pipelines["inference"]


def model_inputs(context) -> list[str]:
    """The datasets ``inference`` reads that ``train`` wrote (every free input but the images
    and the parameters)."""
    return sorted(
        name
        for name in inference_pipeline().inputs()
        if not name.startswith("params:") and name not in (IMAGES, "parameters")
    )


def model_inputs_missing(context) -> list[str]:
    """The models ``inference`` reads that the project's catalog does not hold yet."""
    catalog = context.catalog  # built anew on every access of the property: once here
    return [name for name in model_inputs(context) if not catalog.exists(name)]


def trained_models(context) -> dict[str, Any]:
    """Every model ``inference`` reads, loaded through the project's catalog (what a
    ``make run`` wrote to data/06_models).

    Raises:
        SystemExit: nothing trained yet (names ``make run``).
    """
    catalog = context.catalog  # built anew on every access of the property: once here
    missing = [name for name in model_inputs(context) if not catalog.exists(name)]
    if missing:
        raise SystemExit(f"no trained models ({', '.join(missing[:3])}, ...): run `make run` first")
    return {name: catalog.load(name) for name in model_inputs(context)}


def untrained_models(context, priors: pd.DataFrame, n_fold_models: int = 0) -> dict[str, Any]:
    """The model bundle ``inference`` reads, its networks freshly initialised at the configured
    sizes (the cost of inference, not its grades), shipped as the bundle pipeline ships them:
    each condition grades with ``scratch`` as trained, without the joint head; ``priors`` are the ``label_priors``. With
    ``n_fold_models``, each condition ships that many study-fold models of ``scratch`` to average
    in place of the whole-split grader (what a run with ``split.n_folds`` ships)."""
    import numpy as np

    from disc_grade.conditions import CONDITION_NAMES, spec_of
    from disc_grade.localiser.model import build_localiser
    from disc_grade.models.components.networks import DiscGrader, encoder_from_params
    from disc_grade.models.grading.calibration import fit_method
    from disc_grade.models.training.recipe import VARIANTS, Recipe
    from disc_grade.pipelines.condition.localise import shipped_localiser
    from disc_grade.selection.shipped import ship_grader

    params = context.params
    identity = fit_method(np.zeros((0, 3)), np.zeros(0, dtype=int), "as_trained")
    conditions = {}
    for name in CONDITION_NAMES:
        own = params[name]
        encoder, n_channels = own["finetuning"]["encoder"], int(own["roi"]["n_channels"])
        localiser = build_localiser(own["localiser"]["channels"], spec_of(name).n_maps)
        offsets = {"lateral_mm": 15.0 if spec_of(name).sided else 0.0}
        graders = {
            v: DiscGrader(encoder_from_params(encoder, n_channels)).state_dict() for v in VARIANTS
        }
        grader, _ = ship_grader(
            {"variant": "scratch"},
            graders,
            {v: {**identity, "decision": "grader"} for v in VARIANTS},
            _fold_graders(encoder, n_channels, identity, n_fold_models),
            own["roi"],
            Recipe({}, own["finetuning"], {}),
        )
        conditions[name] = {
            "localiser": shipped_localiser(
                localiser.state_dict(), name, own["localiser"], own["alignment"], offsets
            ),
            "grader": grader,
        }
    bundle = {"metadata": {}, "models": {"conditions": conditions, "joint": {}}}
    models: dict[str, Any] = {"model_bundle": {**bundle, "label_priors": priors}}
    unknown = sorted(set(models) - set(model_inputs(context)))
    if unknown:
        raise KeyError(f"untrained_models built {unknown}, which inference does not read")
    return models


def _fold_graders(encoder: dict, n_channels: int, identity: dict, n: int) -> dict:
    """``n`` untrained fold models of ``scratch`` as ``fold_average.ship_fold_graders`` ships
    them; empty for none (the grader trained on the whole split ships)."""
    from disc_grade.models.components.networks import DiscGrader, encoder_from_params
    from disc_grade.selection.fold_average import SHIPPED_CALIBRATION

    if n <= 0:
        return {}
    calibration = {key: identity[key] for key in SHIPPED_CALIBRATION if key in identity}
    folds = {
        str(k): {
            "weights": DiscGrader(encoder_from_params(encoder, n_channels)).state_dict(),
            "calibration": {**calibration, "decision": "grader"},
        }
        for k in range(n)
    }
    return {"variant": "scratch", "folds": folds}


def parameter_feed(params: dict[str, Any], prefix: str = "params:") -> dict[str, Any]:
    """``params:<key>`` for every key and nested key of ``params``, as ``kedro run`` feeds a
    pipeline its parameters."""
    feed = {}
    for key, value in params.items():
        feed[prefix + key] = value
        if isinstance(value, dict):
            feed |= parameter_feed(value, f"{prefix}{key}.")
    return feed


def infer(context, models: dict[str, Any], images=None) -> pd.DataFrame:
    """Every target of every study under the context's ``input_root`` (or ``images``, a
    ``DicomTree``) graded or flagged by the ``inference`` pipeline, from ``models`` (keyed by
    catalog name): its 25-row table (``inference_grades``; the lazy figures are not drawn)."""
    from kedro.io import DataCatalog, MemoryDataset
    from kedro.runner import SequentialRunner

    pipeline = inference_pipeline()
    feed = {n: v for n, v in parameter_feed(context.params).items() if n in pipeline.inputs()}
    feed[IMAGES] = images if images is not None else context.catalog.load(IMAGES)
    missing = sorted(set(model_inputs(context)) - set(models))
    if missing:
        raise KeyError(f"inference reads {missing}, which the models given lack")
    feed.update(models)
    catalog = DataCatalog({n: MemoryDataset(v, copy_mode="assign") for n, v in feed.items()})
    graded = pipeline.to_outputs(GRADES)  # every node up to the 25-row table (figures aside)
    return SequentialRunner().run(graded, catalog)[GRADES].load()
