"""The phantom cohort: RSNA schema, readable DICOM, label in the image, quirks, determinism."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pydicom
import pytest
from pydicom.uid import RLELossless

from disc_grade.phantom.anatomy import PhantomConfig, draw_cohort
from disc_grade.phantom.cohort import write_cohort
from disc_grade.rsna import CONDITIONS, LEVELS

SEVERITY_TEXT = {"Normal/Mild", "Moderate", "Severe"}


def _read(root: Path):
    train = pd.read_csv(root / "train.csv")
    coords = pd.read_csv(root / "train_label_coordinates.csv")
    series = pd.read_csv(root / "train_series_descriptions.csv")
    return train, coords, series


def test_csvs_follow_the_rsna_schema(small_cohort):
    root, specs, _ = small_cohort
    train, coords, series = _read(root)
    assert list(train.columns) == ["study_id"] + [
        f"{c}_{lvl}" for c in CONDITIONS for lvl in LEVELS
    ]
    assert len(train.columns) == 26 and len(train) == len(specs)
    values = set(train.drop(columns="study_id").stack().unique())
    assert values <= SEVERITY_TEXT
    assert list(coords.columns) == [
        "study_id",
        "series_id",
        "instance_number",
        "condition",
        "level",
        "x",
        "y",
    ]
    assert set(coords["level"]) == {"L1/L2", "L2/L3", "L3/L4", "L4/L5", "L5/S1"}
    assert "Spinal Canal Stenosis" in set(coords["condition"])
    assert list(series.columns) == ["study_id", "series_id", "series_description"]
    assert set(series["series_description"]) == {"Sagittal T2/STIR", "Sagittal T1", "Axial T2"}
    # spinal points sit on the sagittal T2 series, as in the real data
    merged = coords.merge(series, on=["study_id", "series_id"])
    assert len(merged) == len(coords)
    spinal = merged[merged["condition"] == "Spinal Canal Stenosis"]
    assert (spinal["series_description"] == "Sagittal T2/STIR").all()


def test_every_file_is_valid_dicom_with_geometry(small_cohort):
    root, _, _ = small_cohort
    files = sorted((root / "train_images").rglob("*.dcm"))
    assert files
    _, _, series = _read(root)
    described = {(s.study_id, s.series_id): s.series_description for s in series.itertuples()}
    for path in files:
        ds = pydicom.dcmread(path)
        for tag in (
            "ImagePositionPatient",
            "ImageOrientationPatient",
            "PixelSpacing",
            "InstanceNumber",
            "SeriesDescription",
            "Rows",
            "Columns",
            "BitsAllocated",
            "BitsStored",
        ):
            assert tag in ds, f"{path} lacks {tag}"
        assert ds.pixel_array.shape == (ds.Rows, ds.Columns)
        assert int(path.stem) == ds.InstanceNumber
        # <study_id>/<series_id>/: a series the CSV lists, under its own study, described alike
        key = (int(path.parents[1].name), int(path.parent.name))
        assert key in described, f"{path}: not a series of train_series_descriptions.csv"
        assert ds.SeriesDescription == described[key], path


def test_coordinates_fall_inside_their_images(small_cohort):
    root, _, _ = small_cohort
    _, coords, _ = _read(root)
    for row in coords.itertuples():
        path = (
            root
            / "train_images"
            / str(row.study_id)
            / str(row.series_id)
            / f"{row.instance_number}.dcm"
        )
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        assert 0 <= row.x < ds.Columns and 0 <= row.y < ds.Rows, (
            f"{path}: ({row.x}, {row.y}) outside"
        )


def _canal_width_px(pixels: np.ndarray, x: float, y: float, half_window: int) -> float:
    """Bright (CSF) pixels on the three rows through the point, within the window."""
    threshold = 0.5 * np.percentile(pixels, 99.5)
    r, c = int(round(y)), int(round(x))
    band = pixels[r - 1 : r + 2, max(c - half_window, 0) : c + half_window + 1]
    return float((band > threshold).sum(axis=1).mean())


def test_canal_is_narrower_at_severe_than_at_normal_discs():
    config = PhantomConfig(n_studies=40, seed=11, image_size=192, n_sagittal_slices=7)
    specs = draw_cohort(config)
    from disc_grade.phantom.render import render_sagittal_series
    from disc_grade.phantom.tables import coordinates_table

    coords = coordinates_table(specs, config)
    ratios = []
    for spec in specs:
        spinal = spec.severity["spinal_canal_stenosis"]
        if spec.missing_sagittal_t2 or 2 not in spinal.values() or 0 not in spinal.values():
            continue
        rows = coords[
            (coords.study_id == spec.study_id) & (coords.condition == "Spinal Canal Stenosis")
        ]
        mid = int(np.argmin(np.abs(np.arange(7) - 3)))
        pixels = render_sagittal_series(spec, 7, "T2", np.random.default_rng(0))[mid].astype(float)
        half = int(12 / spec.pixel_spacing)
        width = {}
        for row in rows.itertuples():
            level = row.level.lower().replace("/", "_")
            width.setdefault(spinal[level], []).append(_canal_width_px(pixels, row.x, row.y, half))
        severe, normal = np.mean(width[2]), np.mean(width[0])
        assert severe < normal, f"study {spec.study_id}: severe {severe} >= normal {normal}"
        ratios.append(severe / normal)
    assert len(ratios) >= 2, "the cohort should hold studies with both Severe and Normal/Mild discs"
    assert np.mean(ratios) < 0.5


def test_quirks_of_the_real_data_are_planted(small_cohort):
    root, specs, _ = small_cohort
    train, coords, series = _read(root)
    assert (train["study_id"] > 2**31).any(), "an id above 2**31"
    no_t2 = set(train["study_id"]) - set(
        series.loc[series.series_description == "Sagittal T2/STIR", "study_id"]
    )
    assert no_t2, "a study without sagittal T2"
    assert train.drop(columns="study_id").isna().any().any(), "a blank label cell"
    transfer = set()
    thickness_missing = False
    reversed_found = False
    for spec in specs:
        sid = spec.series_ids["Sagittal T1"]
        files = sorted((root / "train_images" / str(spec.study_id) / str(sid)).glob("*.dcm"))
        headers = [pydicom.dcmread(f, stop_before_pixels=True) for f in files]
        transfer |= {h.file_meta.TransferSyntaxUID for h in headers}
        thickness_missing |= any("SliceThickness" not in h for h in headers)
        by_instance = sorted(headers, key=lambda h: h.InstanceNumber)
        xs = [float(h.ImagePositionPatient[0]) for h in by_instance]
        reversed_found |= xs == sorted(xs, reverse=True)
    assert RLELossless in transfer, "RLE-compressed files"
    assert thickness_missing, "SliceThickness missing"
    assert reversed_found, "instance numbers against the slice order"


def test_same_seed_gives_identical_bytes(tmp_path):
    config = PhantomConfig(n_studies=4, seed=3, image_size=96, n_sagittal_slices=5)
    write_cohort(tmp_path / "a", config, workers=1)
    write_cohort(tmp_path / "b", config, workers=2)

    def digest(root: Path) -> dict[str, str]:
        return {
            str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*"))
            if p.is_file()
        }

    a, b = digest(tmp_path / "a"), digest(tmp_path / "b")
    assert a == b and len(a) > 4 * 20
    other = PhantomConfig(n_studies=4, seed=4, image_size=96, n_sagittal_slices=5)
    write_cohort(tmp_path / "c", other)
    assert digest(tmp_path / "c") != a


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_studies": 0}, "n_studies"),
        ({"image_size": 16}, "image_size"),
        ({"severity_prior": [1, 2]}, "severity_prior"),
        ({"n_sagitall_slices": 9}, "unknown phantom parameter"),
    ],
)
def test_bad_parameters_are_named(params, match):
    with pytest.raises(ValueError, match=match):
        PhantomConfig.from_params(params)


def test_severity_frequencies_follow_the_prior():
    config = PhantomConfig(n_studies=600, seed=1)
    specs = draw_cohort(config)
    grades = np.array([[s.severity["spinal_canal_stenosis"][lvl] for lvl in LEVELS] for s in specs])
    share = np.bincount(grades.ravel(), minlength=3) / grades.size
    assert abs(share[0] - 0.878) < 0.05 and 0.02 < share[2] < 0.09
    assert np.argmax((grades == 2).sum(axis=0)) == LEVELS.index("l4_l5"), "most Severe at L4/L5"
