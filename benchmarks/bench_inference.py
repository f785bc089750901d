"""Inference on one new study, model loading included (goal: under 5 s on the 2-core CPU machine).

Needs the trained models of a `make run` (data/06_models). Times, in this process: reading the
localiser and grader weights, the header scan of the study folder, choosing the series, locating
the discs, cropping and grading; the first (cold) call also pays the imports. Reference in the same
run: the localiser
replaced by decoding and keeping every slice of every series (what a naive reader does first).
Also reports, when a withheld-label inference run of the test studies exists, its agreement with
the labels beside the fine-tuning test split's agreement at the labelled points.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pydicom
import yaml
from sklearn.metrics import balanced_accuracy_score

ROOT = Path(__file__).resolve().parents[1]


def params(name: str) -> dict:
    return yaml.safe_load((ROOT / "conf" / "base" / f"parameters_{name}.yml").read_text())


def grade_one(folder: Path) -> tuple[pd.DataFrame, float]:
    from disc_grade.datasets import DicomTree, TorchStateDataset
    from disc_grade.pipelines.inference.nodes import grade_studies, localise_studies, select_series
    from disc_grade.pipelines.ingestion.nodes import scan_dicom_headers, summarise_series

    start = time.perf_counter()
    models = ROOT / "data" / "06_models"
    localiser = TorchStateDataset(str(models / "localiser.pt")).load()
    graders = [
        TorchStateDataset(str(models / v / "grader.pt")).load()
        for v in ("contrastive", "scratch", "frozen")
    ]
    tree = DicomTree(folder)
    index = scan_dicom_headers(tree, {"workers": 1})
    series = summarise_series(index)
    targets = select_series(index, series, params("inference")["inference"])
    points = localise_studies(
        targets,
        series,
        tree,
        localiser,
        params("localiser")["localiser"],
        params("inference")["inference"],
    )
    grades, _ = grade_studies(
        targets,
        points,
        series,
        tree,
        *graders,
        params("roi")["roi"],
        params("finetuning")["finetuning"],
        params("inference")["inference"],
    )
    return grades, time.perf_counter() - start


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--study", type=str, default=None, help="a study folder; default: the first phantom study"
    )
    args = parser.parse_args()
    if not (ROOT / "data" / "06_models" / "localiser.pt").is_file():
        raise SystemExit("no trained models: run `make run` first")
    source = (
        Path(args.study)
        if args.study
        else next(
            p for p in sorted((ROOT / "data/01_raw/phantom/train_images").iterdir()) if p.is_dir()
        )
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "test_images"
        shutil.copytree(source, folder / source.name)
        start = time.perf_counter()
        grade_one(folder)  # cold: imports and first-call set-up
        cold = time.perf_counter() - start
        grades, seconds = grade_one(folder)
        start = time.perf_counter()
        pixels = [pydicom.dcmread(p).pixel_array for p in sorted(folder.rglob("*.dcm"))]
        naive = time.perf_counter() - start
    print(
        f"one study ({source.name}, {len(pixels)} files): graded {int(grades['graded'].sum())}/5 levels in {seconds:.2f} s "
        f"with model loading (goal < 5 s)"
    )
    print(
        f"cold first call, imports included: {cold:.2f} s; decoding every file of the study once: {naive:.2f} s"
    )

    grades_file = ROOT / "data/07_model_output/inference/grades.csv"
    if grades_file.is_file():
        discs = pd.read_parquet(ROOT / "data/03_primary/discs.parquet")
        done = pd.read_csv(grades_file).merge(
            discs[["study_id", "level", "label", "split"]], on=["study_id", "level"]
        )
        done = done[done["graded"] & (done["split"] == "test")]
        if len(done):
            predicted = done[["p_normal_mild", "p_moderate", "p_severe"]].to_numpy().argmax(1)
            fine = pd.read_parquet(ROOT / "data/07_model_output/predictions.parquet")
            fine = fine[(fine["variant"] == done["variant"].iloc[0]) & (fine["split"] == "test")]
            ba_inf = balanced_accuracy_score(done["label"], predicted)
            ba_fine = balanced_accuracy_score(fine["label"], fine["predicted"])
            print(
                f"withheld-label inference on {len(done)} test discs: balanced accuracy {ba_inf:.3f}, "
                f"accuracy {np.mean(predicted == done['label']):.3f}"
            )
            print(
                f"fine-tuning test split at labelled points ({len(fine)} discs): balanced accuracy {ba_fine:.3f}, "
                f"accuracy {np.mean(fine['predicted'] == fine['label']):.3f}; difference {ba_fine - ba_inf:+.3f}"
            )
