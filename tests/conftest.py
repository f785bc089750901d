"""Shared fixtures: a small phantom cohort written once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")

from disc_grade.phantom.anatomy import PhantomConfig  # noqa: E402
from disc_grade.phantom.cohort import write_cohort  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# the smallest localiser that still runs end to end, for the e2e tests
TINY_LOCALISER = {
    "epochs": 1,
    "batch_size": 8,
    "grid_size": 48,
    "channels": [4, 8, 16],
    "workers": 1,
}
SMALL_COHORT = PhantomConfig(n_studies=10, seed=7, image_size=128, n_sagittal_slices=7)
_QUICK = {"epochs": 1, "batch_size": 16, "encoder": {"depth": 10}}
# what shrinks one condition's block to seconds on a tiny cohort (e2e tests)
TINY_CONDITION = {
    "roi": {"size_px": 24, "workers": 1},
    "pretraining": {**_QUICK, "checkpoint": None},
    "finetuning": {**_QUICK, "checkpoint_dir": None},
    "localiser": TINY_LOCALISER,
    "evaluation": {"n_resamples": 50},
}
CONDITIONS = ("spinal", "foraminal", "subarticular")
TINY_PHANTOM = {
    "workers": 1,
    "cohort": {"n_studies": 10, "image_size": 96, "n_sagittal_slices": 5},
}
# runtime parameters that shrink `train` to seconds on a tiny cohort (e2e tests)
TINY_RUN_PARAMS = {
    "phantom": TINY_PHANTOM,
    "ingestion": {"workers": 1},
    **{condition: TINY_CONDITION for condition in CONDITIONS},
}


def bundled_pydicom_files(pattern: str = "*") -> list[Path]:
    """pydicom's own test files shipped in the wheel (never its downloadable extras)."""
    import pydicom.data

    folder = Path(pydicom.data.__file__).parent / "test_files"
    return sorted(p for p in folder.rglob(pattern) if p.is_file())


@pytest.fixture(scope="session")
def small_cohort(tmp_path_factory):
    """(raw root, specs, config) of a 10-study phantom at 128 px, shared read-only."""
    root = tmp_path_factory.mktemp("raw")
    specs = write_cohort(root, SMALL_COHORT)
    return root, specs, SMALL_COHORT


@pytest.fixture(scope="session")
def small_cohort_tables(small_cohort):
    """The small cohort read as the pipelines read it: ``train``, ``coords``, ``descriptions``,
    ``series``, ``index`` (the header scan), ``splits`` (one per study: every third study test,
    the rest train), ``landmarks`` and the canal's aligned targets ``discs``."""
    from types import SimpleNamespace

    import pandas as pd

    from disc_grade.alignment.landmarks import labelled_landmarks
    from disc_grade.alignment.split import study_table
    from disc_grade.dicom.headers import scan_headers
    from disc_grade.dicom.series import build_series_table

    root = small_cohort[0]
    files = sorted(
        str(p.relative_to(root / "train_images")) for p in (root / "train_images").rglob("*.dcm")
    )
    index = scan_headers(root / "train_images", files)
    series = build_series_table(index)
    train = pd.read_csv(root / "train.csv")
    coords = pd.read_csv(root / "train_label_coordinates.csv")
    descriptions = pd.read_csv(root / "train_series_descriptions.csv")
    studies = study_table(train, series)
    splits = studies.assign(
        split=["test" if i % 3 == 0 else "train" for i in range(len(studies))], fold=-1
    )
    landmarks = labelled_landmarks(coords, index)
    tables = SimpleNamespace(
        train=train,
        coords=coords,
        descriptions=descriptions,
        series=series,
        index=index,
        splits=splits,
        landmarks=landmarks,
    )
    tables.discs = align(tables, "spinal")[0]
    return tables


def align(tables, name: str, coords=None, splits=None):
    """``alignment.targets.align_targets`` of condition ``name`` on ``small_cohort_tables``."""
    from disc_grade.alignment.targets import align_targets
    from disc_grade.conditions import spec_of

    return align_targets(
        spec_of(name),
        tables.train,
        tables.coords if coords is None else coords,
        tables.descriptions,
        tables.series,
        tables.index,
        tables.splits if splits is None else splits,
        tables.landmarks,
        ALIGNMENT,
    )


ALIGNMENT = {"side_tolerance_mm": 1.0, "max_disc_distance_mm": 15.0}


@pytest.fixture(scope="session")
def foreign_cohort(tmp_path_factory) -> Path:
    """A 10-study phantom rewritten as a cohort the phantom did not write (``tests/foreign.py``)."""
    import shutil

    from tests.foreign import make_foreign_cohort

    root = tmp_path_factory.mktemp("foreign")
    write_cohort(
        root / "phantom", PhantomConfig(n_studies=10, seed=5, image_size=96, n_sagittal_slices=5)
    )
    make_foreign_cohort(root / "phantom", root / "download")
    shutil.rmtree(root / "phantom")
    return root / "download"


def config_copy(root: Path) -> Path:
    """A throw-away copy of the project's configuration at ``root``, to run Kedro from.

    Catalog paths are relative, so every output lands under ``root``, not in ``data/``.
    """
    import shutil

    for name in ("pyproject.toml", ".telemetry"):
        shutil.copy(PROJECT_ROOT / name, root / name)
    shutil.copytree(PROJECT_ROOT / "conf", root / "conf", ignore=shutil.ignore_patterns("local"))
    (root / "conf" / "local").mkdir()
    (root / "src").mkdir()  # Kedro wants it; the package itself is the installed one
    for layer in (
        "01_raw",
        "02_intermediate",
        "03_primary",
        "05_model_input",
        "06_models",
        "07_model_output",
        "08_reporting",
    ):
        (root / "data" / layer).mkdir(parents=True)
    return root


@pytest.fixture
def kedro_project(tmp_path, monkeypatch):
    """``config_copy`` in ``tmp_path``, run from its own folder."""
    monkeypatch.chdir(tmp_path)
    return config_copy(tmp_path)


def run_kedro(
    project: Path, pipeline: str, params: dict | None = None, env: str | None = None, **run
) -> None:
    """``kedro run --pipelines=<pipeline> --env=<env> --params=...`` inside ``project`` (``run``:
    more of ``KedroSession.run``'s options, e.g. ``to_nodes``)."""
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(project)
    runtime = params or {}
    with KedroSession.create(project_path=project, env=env, runtime_params=runtime) as session:
        session.run(pipeline_names=[pipeline], **run)
