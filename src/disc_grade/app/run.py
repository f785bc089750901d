"""Grade any DICOM folder with a model bundle: intake (``dicom.intake``), then the Kedro inference
pipeline itself, run in memory with the bundle as its only model input."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from disc_grade.conditions import CONDITION_NAMES
from disc_grade.datasets import DicomTreeDataset
from disc_grade.dicom.intake import intake

logger = logging.getLogger(__name__)
KEPT = (
    "inference_dicom_index",
    "inference_grades",
    "submission",
    "inference_figures",
)


@dataclass
class Graded:
    """What grading a folder gives: every target's row, the submission, every input file with
    its fate, and each study's figure (drawn when called, while the staged folder exists)."""

    grades: pd.DataFrame
    submission: pd.DataFrame
    files: pd.DataFrame
    figures: dict


def _catalog(bundle: dict, staged: Path, params: dict[str, Any]):
    from kedro.io import DataCatalog, MemoryDataset

    class Kept(MemoryDataset):
        """A memory dataset the runner does not empty once its readers are done."""

        def _release(self) -> None:
            pass

    datasets = {
        "inference_images": DicomTreeDataset(str(staged)),
        "model_bundle": MemoryDataset(bundle, copy_mode="assign"),
        "params:ingestion": MemoryDataset(params["ingestion"], copy_mode="assign"),
        "params:inference": MemoryDataset(params["inference"], copy_mode="assign"),
        **{f"params:{c}.name": MemoryDataset(c) for c in CONDITION_NAMES},
        **{name: Kept(copy_mode="assign") for name in KEPT},
    }
    return DataCatalog(datasets)


def run_inference(bundle: dict, staged: Path, params: dict[str, Any]) -> dict[str, Any]:
    """The inference pipeline on the staged folder; its ``KEPT`` datasets' data by name.

    Raises:
        ValueError: the pipeline reads an input that neither the bundle nor ``params`` gives.
    """
    from kedro.runner import SequentialRunner

    from disc_grade.pipelines.inference import create_pipeline

    pipeline = create_pipeline()
    catalog = _catalog(bundle, staged, params)
    missing = sorted(pipeline.inputs() - set(catalog.keys()))
    if missing:
        raise ValueError(f"the inference pipeline reads {missing}, which grading does not give")
    SequentialRunner().run(pipeline, catalog)
    return {name: catalog[name].load() for name in KEPT}


def file_fates(files: pd.DataFrame, index: pd.DataFrame) -> pd.DataFrame:
    """Every input file: ``read`` (its header is usable) or ``skipped`` with why (the intake's
    reason, or the header reader's status and error for a staged image)."""
    read = index.set_index("path")[["status", "error"]]
    fates = files.copy()
    status = fates["staged"].map(read["status"])
    error = fates["staged"].map(read["error"]).fillna("")
    ok = status.eq("ok").fillna(False).astype(bool)
    bad = fates["staged"].notna() & ~ok
    fates.loc[ok, "status"] = "read"
    fates.loc[bad, "status"] = "skipped"
    fates.loc[bad, "reason"] = (status[bad].astype(str) + ": " + error[bad].astype(str)).to_numpy()
    return fates.drop(columns=["staged"])


def grade_inputs(inputs: list[Path], bundle: dict, workdir: Path, params: dict[str, Any]) -> Graded:
    """Every file under ``inputs`` taken in (``dicom.intake``), staged under ``workdir`` and
    graded with ``bundle``.

    Raises:
        ValueError: an input is missing or holds no DICOM image (``dicom.intake.intake``).
    """
    staged = workdir / "staged"
    files = intake(inputs, staged)
    images = int(files["staged"].notna().sum())
    logger.info(
        "grade: %d files, %d images to read, %d skipped", len(files), images, len(files) - images
    )
    out = run_inference(bundle, staged, params)
    return Graded(
        grades=out["inference_grades"],
        submission=out["submission"],
        files=file_fates(files, out["inference_dicom_index"]),
        figures=out["inference_figures"],
    )
