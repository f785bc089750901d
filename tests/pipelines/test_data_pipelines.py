"""ingestion -> split -> the canal's alignment and ROIs on the phantom, with corrupt and foreign
files mixed in."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from disc_grade.dicom.gallery import roi_gallery
from disc_grade.dicom.headers import OK
from disc_grade.phantom.dicom_writer import PHANTOM_PATIENT_NAME
from tests.conftest import bundled_pydicom_files, run_kedro


def _copy_cohort(small_cohort, project: Path) -> Path:
    root, _, _ = small_cohort
    raw = project / "data" / "01_raw" / "phantom"  # conf/base/globals.yml's raw_root
    shutil.copytree(root, raw)
    return raw


def _read_outputs(project: Path):
    read = pd.read_parquet
    return {
        "dicom_index": read(project / "data/02_intermediate/dicom_index.parquet"),
        "series": read(project / "data/02_intermediate/series.parquet"),
        "discs": read(project / "data/03_primary/spinal/targets.parquet"),
        "alignment_exclusions": pd.read_csv(
            project / "data/08_reporting/spinal/alignment_exclusions.csv"
        ),
        "roi_index": read(project / "data/05_model_input/spinal/roi_index.parquet"),
        "roi_exclusions": pd.read_csv(project / "data/08_reporting/spinal/roi_exclusions.csv"),
        "disc_rois": np.load(project / "data/05_model_input/spinal/rois.npy"),
    }


def _run_data_stages(project: Path) -> None:
    """ingestion, split, then the canal's alignment and ROIs, each a run of its own."""
    for name in ("ingestion", "split"):
        run_kedro(project, name)
    run_kedro(project, "rois", namespaces=["spinal"])


@pytest.mark.e2e
def test_each_pipeline_runs_alone_on_the_one_before(small_cohort, kedro_project):
    _copy_cohort(small_cohort, kedro_project)
    _run_data_stages(kedro_project)
    out = _read_outputs(kedro_project)
    _, specs, _ = small_cohort
    n_cells = len(specs) * 5
    excluded = out["alignment_exclusions"]
    assert len(out["discs"]) + (excluded.source == "label_cell").sum() == n_cells
    assert len(out["roi_index"]) + len(out["roi_exclusions"]) == len(out["discs"])
    rois = out["disc_rois"]
    conf = yaml.safe_load((kedro_project / "conf/base/parameters_conditions.yml").read_text())
    size = conf["spinal"]["roi"]["size_px"]
    assert rois.dtype == np.float16 and rois.shape == (len(out["roi_index"]), 3, size, size)
    assert (out["roi_index"]["roi"] == np.arange(len(rois))).all()
    by_study = out["discs"].groupby("study_id")["split"].nunique()
    assert (by_study == 1).all(), "no study on two sides of the split"
    splits = pd.read_parquet(kedro_project / "data/02_intermediate/study_splits.parquet")
    assert len(splits) == len(specs) and splits["study_id"].is_unique  # every study, once
    assert {"train", "validation", "test"} <= set(splits["split"])
    assert set(out["discs"]["split"]) <= set(splits["split"])
    # the gallery is drawn in memory and saved with the condition's report figures
    gallery = roi_gallery(rois, out["roi_index"])
    assert len(gallery.axes) >= 3
    for name in (
        "dicom_index",
        "series",
        "discs",
        "alignment_exclusions",
        "roi_index",
        "roi_exclusions",
    ):
        assert PHANTOM_PATIENT_NAME.split("^")[0] not in out[name].astype(str).to_csv()


@pytest.mark.e2e
def test_corrupt_and_foreign_files_are_reported_and_the_rest_flows(small_cohort, kedro_project):
    raw = _copy_cohort(small_cohort, kedro_project)
    _, specs, config = small_cohort
    spec = next(s for s in specs if not s.missing_sagittal_t2)
    study = raw / "train_images" / str(spec.study_id)
    t2 = study / str(spec.series_ids["Sagittal T2/STIR"])
    coords = pd.read_csv(raw / "train_label_coordinates.csv")
    labelled = coords[
        (coords.study_id == spec.study_id) & (coords.condition == "Spinal Canal Stenosis")
    ]
    mid = int(labelled.instance_number.iloc[0])
    # corrupt the labelled slice's neighbour: truncate its pixel data
    neighbour = mid + 1 if mid < config.n_sagittal_slices else mid - 1
    data = (t2 / f"{neighbour}.dcm").read_bytes()
    (t2 / f"{neighbour}.dcm").write_bytes(data[: len(data) - 500])
    # pydicom's own test files (many vendors, syntaxes, non-images) dropped into the study
    foreign = bundled_pydicom_files()
    for i, path in enumerate(foreign):
        folder = study / str(900_000 + i)
        folder.mkdir()
        shutil.copy(path, folder / ("1.dcm" if i % 4 else path.name))
    (study / "notes.txt").write_text("not an image")

    _run_data_stages(kedro_project)
    out = _read_outputs(kedro_project)
    index = out["dicom_index"]
    n_files = sum(
        1 for p in (raw / "train_images").rglob("*") if p.is_file() and not p.name.startswith(".")
    )
    assert len(index) == n_files, "every file has a row"
    assert index["status"].notna().all()
    broken = index[
        index["path"] == f"{spec.study_id}/{spec.series_ids['Sagittal T2/STIR']}/{neighbour}.dcm"
    ]
    assert broken["status"].iloc[0] == "truncated_pixel_data"
    assert (index.loc[index.status != OK, "error"].str.len() > 0).all()
    foreign_rows = index[index["series_id"].ge(900_000) | index["study_id"].isna()]
    assert len(foreign_rows) >= len(foreign) and foreign_rows["status"].nunique() > 1
    series = out["series"]
    t2_row = series[series.series_id == spec.series_ids["Sagittal T2/STIR"]].iloc[0]
    assert t2_row["n_files_not_ok"] == 1 and t2_row["n_slices"] == config.n_sagittal_slices - 1
    # the study's discs still reach ROIs, and every phantom disc too
    discs = out["discs"]
    assert set(discs.loc[discs.study_id == spec.study_id, "level"]) == set(
        labelled.level.str.lower().str.replace("/", "_")
    )
    assert set(out["roi_index"].study_id) == set(discs.study_id)
    assert len(out["roi_exclusions"]) == 0
