"""Write a phantom cohort for a benchmark (cached under /tmp by its parameters)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd

from disc_grade.phantom.anatomy import PhantomConfig
from disc_grade.phantom.cohort import write_cohort


def cohort(n_studies: int, image_size: int, seed: int = 2024) -> Path:
    """Raw root of a phantom cohort, made once per parameter set."""
    root = Path(tempfile.gettempdir()) / f"disc_grade_bench_{n_studies}_{image_size}_{seed}"
    if not (root / "train.csv").exists():
        write_cohort(
            root, PhantomConfig(n_studies=n_studies, image_size=image_size, seed=seed), workers=2
        )
    return root


def read_csvs(root: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return (
        pd.read_csv(root / "train.csv"),
        pd.read_csv(root / "train_label_coordinates.csv"),
        pd.read_csv(root / "train_series_descriptions.csv"),
    )
