"""The inference pipeline's nodes run in this process, every condition in order (benchmarks)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]


def params(name: str, env: str = "base") -> dict:
    """A ``conf/<env>/parameters_<name>.yml`` file (YAML anchors resolved), or {}."""
    path = ROOT / "conf" / env / f"parameters_{name}.yml"
    return yaml.safe_load(path.read_text()) if path.is_file() else {}


def trained_models() -> dict:
    """The weights a ``make run`` wrote (data/06_models), keyed as ``infer`` reads them."""
    import json

    from disc_grade.conditions import CONDITION_NAMES
    from disc_grade.datasets import TorchStateDataset
    from disc_grade.pipelines.condition.grade import VARIANTS

    folder = ROOT / "data" / "06_models"
    if not (folder / "spinal" / "localiser.pt").is_file():
        raise SystemExit("no trained models in data/06_models: run `make run` first")
    models = {}
    for name in CONDITION_NAMES:
        own = folder / name
        models[f"{name}.localiser"] = TorchStateDataset(str(own / "localiser.pt")).load()
        models[f"{name}.offsets"] = json.loads((own / "offsets.json").read_text())
        for variant in VARIANTS:
            path = own / variant / "grader.pt"
            models[f"{name}.{variant}.grader"] = TorchStateDataset(str(path)).load()
    return models


def infer(tree, models: dict, priors: pd.DataFrame) -> pd.DataFrame:
    """Every target of every study of ``tree`` graded or flagged, as ``kedro run --pipelines=
    inference`` does; ``models``: ``<condition>.<localiser|offsets>`` and
    ``<condition>.<variant>.grader`` weights (or one ``<condition>.grader`` for every variant)."""
    from disc_grade.conditions import CONDITION_NAMES, spec_of
    from disc_grade.pipelines.condition.grade import VARIANTS
    from disc_grade.pipelines.inference.nodes import (
        assemble_submission,
        choose_inference_series,
        find_condition_targets,
        grade_condition,
        locate_inference_landmarks,
    )
    from disc_grade.pipelines.ingestion.nodes import scan_dicom_headers, summarise_series

    conditions = params("conditions")
    index = scan_dicom_headers(tree, params("ingestion")["ingestion"])
    series = summarise_series(index)
    choice = choose_inference_series(series, params("inference")["inference"])
    landmarks, grades = None, []
    for name in CONDITION_NAMES:
        own = conditions[name]
        targets, missing = find_condition_targets(
            choice, series, index, tree, models[f"{name}.localiser"], models[f"{name}.offsets"],
            name, own["localiser"], own["alignment"],
            landmarks if spec_of(name).needs_landmarks else None,
        )  # fmt: skip
        if name == "spinal":
            landmarks = locate_inference_landmarks(targets, index)
        graders = [models.get(f"{name}.{v}.grader", models.get(f"{name}.grader")) for v in VARIANTS]
        grades.append(
            grade_condition(
                targets,
                missing,
                series,
                tree,
                *graders,
                own["roi"],
                own["finetuning"],
                own["inference"],
            )  # fmt: skip
        )
    table, _ = assemble_submission(index, priors, *grades)
    return table
