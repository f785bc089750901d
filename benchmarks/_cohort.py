"""Write a phantom cohort for a benchmark (cached under /tmp by its parameters)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd

from disc_grade.datasets import DicomTreeDataset
from disc_grade.phantom.anatomy import PhantomConfig
from disc_grade.phantom.cohort import make_cohort


def cohort(n_studies: int, image_size: int, seed: int = 2024) -> Path:
    """Raw root of a phantom cohort, made once per parameter set."""
    root = Path(tempfile.gettempdir()) / f"disc_grade_bench_{n_studies}_{image_size}_{seed}"
    if (root / "train.csv").exists():
        return root
    config = PhantomConfig(n_studies=n_studies, image_size=image_size, seed=seed)
    _, train, coords, series, images = make_cohort(config, workers=2)
    root.mkdir(parents=True, exist_ok=True)
    coords.to_csv(root / "train_label_coordinates.csv", index=False)
    series.to_csv(root / "train_series_descriptions.csv", index=False)
    DicomTreeDataset(str(root / "train_images")).save(images)
    train.to_csv(root / "train.csv", index=False)  # last: marks the cohort complete
    return root


def read_csvs(root: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return (
        pd.read_csv(root / "train.csv"),
        pd.read_csv(root / "train_label_coordinates.csv"),
        pd.read_csv(root / "train_series_descriptions.csv"),
    )
