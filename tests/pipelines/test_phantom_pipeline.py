"""The phantom pipeline run through Kedro: catalog paths follow ``raw_root``."""

from __future__ import annotations

import pandas as pd
import pydicom
import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from kedro_datasets.pandas import CSVDataset

from disc_grade.datasets import DicomTreeDataset
from disc_grade.phantom.anatomy import PhantomConfig, draw_cohort
from disc_grade.phantom.axial_layout import axial_slices
from disc_grade.pipelines.phantom import create_pipeline
from tests.conftest import PROJECT_ROOT


def test_pipeline_slice_on_an_in_memory_catalog(tmp_path):
    catalog = DataCatalog(
        datasets={
            "train_images": DicomTreeDataset(str(tmp_path / "train_images")),
            "train_labels": CSVDataset(
                filepath=str(tmp_path / "train.csv"), save_args={"index": False}
            ),
            "params:phantom": MemoryDataset(
                {"workers": 1, "cohort": {"n_studies": 2, "image_size": 96, "n_sagittal_slices": 5}}
            ),
            "params:raw_root": MemoryDataset(str(tmp_path)),
        },
    )
    outputs = SequentialRunner().run(create_pipeline(), catalog)
    assert pd.read_csv(tmp_path / "train.csv").shape == (2, 26)
    config = PhantomConfig(n_studies=2, image_size=96, n_sagittal_slices=5)
    expected = sum(
        (5 if spec.missing_sagittal_t2 else 10) + len(axial_slices(spec, config))
        for spec in draw_cohort(config)
    )
    assert expected >= 2 * (5 + 5 + 10)  # two sagittal series and at least two axial per level
    assert len(list((tmp_path / "train_images").rglob("*.dcm"))) == expected
    assert "phantom_preview" in outputs


@pytest.mark.e2e
def test_kedro_run_phantom_writes_under_raw_root(tmp_path):
    bootstrap_project(PROJECT_ROOT)
    params = {
        "raw_root": str(tmp_path),
        "phantom": {"workers": 1, "cohort": {"n_studies": 3, "image_size": 96}},
    }
    with KedroSession.create(project_path=PROJECT_ROOT, runtime_params=params) as session:
        session.run(pipeline_names=["phantom"], node_names=["make_phantom_cohort"])
    train = pd.read_csv(tmp_path / "train.csv")
    assert len(train) == 3
    first = next((tmp_path / "train_images").rglob("*.dcm"))
    assert pydicom.dcmread(first).Modality == "MR"


@pytest.mark.e2e
def test_kedro_run_phantom_refuses_a_folder_it_did_not_write_csvs_included(tmp_path):
    user_files = {
        "train.csv": b"study_id,spinal_canal_stenosis_l1_l2\n4003253,Normal/Mild\n",
        "train_label_coordinates.csv": b"study_id,series_id\n4003253,702807833\n",
        "notes.txt": b"the user's own file\n",
    }
    for name, payload in user_files.items():
        (tmp_path / name).write_bytes(payload)
    bootstrap_project(PROJECT_ROOT)
    params = {
        "raw_root": str(tmp_path),
        "phantom": {"workers": 1, "cohort": {"n_studies": 2, "image_size": 96}},
    }
    with pytest.raises(Exception, match="refusing to write the phantom"):
        with KedroSession.create(project_path=PROJECT_ROOT, runtime_params=params) as session:
            session.run(pipeline_names=["phantom"])
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == user_files
