"""One train run on a tiny phantom (then inference on its studies), shared by the end-to-end
test modules of this folder: made once per test session, whichever xdist worker asks first, the
others wait on a lock and read the same folder."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from filelock import FileLock

from disc_grade.conditions import CONDITION_NAMES
from tests.conftest import TINY_RUN_PARAMS, config_copy, run_kedro


def _train_and_infer(project: Path) -> dict:
    """Phantom (14 studies), train with two study folds and a canal leave-site-out fold, the
    study without sagittal T2 held out by its site, then inference on the same images; returns
    the parameters of the train run and the held-out study."""
    # 14 studies, so that each of two study folds holds two training studies (a head fitted per
    # fold needs one to fit on and one to stop on)
    cohort = {**TINY_RUN_PARAMS["phantom"]["cohort"], "n_studies": 14}
    params = {**TINY_RUN_PARAMS, "phantom": {**TINY_RUN_PARAMS["phantom"], "cohort": cohort}}
    run_kedro(project, "phantom", params)
    # hold out the site of the study without sagittal T2: it must train nothing, anywhere
    raw = project / "data/01_raw/phantom"
    truth = pd.read_csv(raw / "phantom_truth.csv")
    series = pd.read_csv(raw / "train_series_descriptions.csv")
    no_t2 = sorted(
        set(truth["study_id"])
        - set(series.loc[series.series_description.str.contains("T2/"), "study_id"])
    )
    assert len(no_t2) == 1
    site = truth.loc[truth["study_id"] == no_t2[0], "site"].iloc[0]
    # the canal's choice weighs a leave-site-out fold
    params = {
        **params,
        "spinal": {**params["spinal"], "leave_site_out": {"max_sites": 1}},
    }
    # two study folds (a validation study in each): the variant is chosen out of fold
    split = {
        "holdout_sites": [f"phantom site {site}"],
        "n_folds": 2,
        "train": 0.5,
        "validation": 0.3,
    }
    params = {**params, "split": split}
    run_kedro(project, "train", params)
    run_kedro(project, "inference", {**params, "input_root": str(raw / "train_images")})
    return {"params": params, "no_t2": int(no_t2[0])}


@pytest.fixture(scope="session")
def trained(tmp_path_factory, worker_id):
    """The shared run (``_train_and_infer``): ``project``, ``data``, ``params``, ``no_t2``,
    ``splits`` (indexed by study) and ``inference`` (its output folder). Read-only: a test that
    reruns part of it copies the project first."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if worker_id != "master" else base
    project = shared / "train_end_to_end"
    with FileLock(str(shared / "train_end_to_end.lock")):
        done = project / "run.json"
        if not done.is_file():
            project.mkdir(exist_ok=True)
            with pytest.MonkeyPatch.context() as patch:
                patch.chdir(config_copy(project))
                made = _train_and_infer(project)
            done.write_text(json.dumps(made))
    made = json.loads(done.read_text())
    data = project / "data"
    return SimpleNamespace(
        project=project,
        data=data,
        params=made["params"],
        no_t2=made["no_t2"],
        splits=pd.read_parquet(data / "02_intermediate/study_splits.parquet").set_index("study_id"),
        inference=data / "07_model_output/inference",
    )


def cells(folder, prefix: str) -> pd.DataFrame:
    """A folds folder's partitions of one kind (one parquet file per fold cell, ``k<fold>`` a
    study fold, ``s<fold>`` a leave-site-out fold), as one table."""
    parts = [pd.read_parquet(path) for path in sorted(folder.glob(f"{prefix}*.parquet"))]
    return pd.concat([p for p in parts if len(p)], ignore_index=True)


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())


def chosen_graders(data: Path) -> dict:
    """Per condition its ``chosen_grader.json``."""
    return {n: read_json(data / f"06_models/{n}/chosen_grader.json") for n in CONDITION_NAMES}


def held_out_ids(run) -> set:
    """The studies of both test splits."""
    return set(run.splits.index[run.splits["split"].isin(["test", "external_test"])])
