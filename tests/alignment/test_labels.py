"""Alignment: one disc per usable label cell, every other cell listed with its reason."""

from __future__ import annotations

import pandas as pd
import pytest

from disc_grade.alignment import labels as L
from disc_grade.alignment.labels import align_discs
from disc_grade.alignment.ledger import label_cells
from disc_grade.dicom.headers import scan_headers
from disc_grade.dicom.series import build_series_table


@pytest.fixture(scope="module")
def raw(small_cohort):
    root, specs, _ = small_cohort
    files = sorted(
        str(p.relative_to(root / "train_images")) for p in (root / "train_images").rglob("*.dcm")
    )
    series = build_series_table(scan_headers(root / "train_images", files))
    train = pd.read_csv(root / "train.csv")
    coords = pd.read_csv(root / "train_label_coordinates.csv")
    descriptions = pd.read_csv(root / "train_series_descriptions.csv")
    return train, coords, descriptions, series, specs


def _reconciles(train, discs, exclusions):
    cells = exclusions[exclusions["source"] == "label_cell"]
    assert len(discs) + len(cells) == len(train) * 5
    keys = set(zip(discs.study_id, discs.level, strict=True)) | set(
        zip(cells.study_id, cells.level, strict=True)
    )
    assert len(keys) == len(train) * 5, "no cell is both a disc and an exclusion, none is lost"


def test_phantom_quirks_become_reasoned_exclusions(raw):
    train, coords, descriptions, series, specs = raw
    discs, exclusions = align_discs(train, coords, descriptions, series)
    _reconciles(train, discs, exclusions)
    reasons = set(exclusions["reason"])
    assert {L.BLANK_LABEL, L.NO_SAGITTAL_T2} <= reasons
    no_t2 = next(s for s in specs if s.missing_sagittal_t2)
    assert no_t2.study_id not in set(discs.study_id)
    assert discs["study_id"].dtype == "int64" and (discs["study_id"] > 2**31).any()
    assert set(discs["label"]) <= {0, 1, 2}
    assert (discs["slice_rank"] >= 0).all() and (discs["slice_rank"] < discs["n_slices"]).all()
    assert discs["x_mm"].equals(discs["x"] * discs["pixel_spacing_col"])


def _mutate(raw, what):
    train, coords, descriptions, series, _ = raw
    train, coords, descriptions, series = (
        train.copy(),
        coords.copy(),
        descriptions.copy(),
        series.copy(),
    )
    spinal = coords[coords.condition == "Spinal Canal Stenosis"]
    target = spinal.iloc[0]
    at = (
        (coords.study_id == target.study_id)
        & (coords.level == target.level)
        & (coords.condition == target.condition)
    )
    if what == L.COORDINATE_MISSING:
        coords = coords[~at]
    elif what == L.OUTSIDE_IMAGE:
        coords.loc[at, "x"] = 10_000.0
    elif what == L.INSTANCE_NOT_IN_SERIES:
        coords.loc[at, "instance_number"] = 999
    elif what == L.NOT_ON_SAGITTAL_T2:
        t1 = descriptions[
            (descriptions.study_id == target.study_id)
            & (descriptions.series_description == "Sagittal T1")
        ]
        coords.loc[at, "series_id"] = t1.series_id.iloc[0]
    elif what == L.SERIES_NOT_ON_DISK:
        series = series[series.series_id != target.series_id]
    elif what == L.UNKNOWN_LABEL:
        column = "spinal_canal_stenosis_" + target.level.lower().replace("/", "_")
        train.loc[train.study_id == target.study_id, column] = "Severe!"
    elif what == L.STUDY_NOT_LABELLED:
        extra = target.copy()
        extra["study_id"] = 123
        coords = pd.concat(
            [coords, extra.to_frame().T.astype(coords.dtypes.to_dict())], ignore_index=True
        )
    return train, coords, descriptions, series, target


@pytest.mark.parametrize(
    "reason",
    [
        L.COORDINATE_MISSING,
        L.OUTSIDE_IMAGE,
        L.INSTANCE_NOT_IN_SERIES,
        L.NOT_ON_SAGITTAL_T2,
        L.SERIES_NOT_ON_DISK,
        L.UNKNOWN_LABEL,
        L.STUDY_NOT_LABELLED,
    ],
)
def test_each_exclusion_reason(raw, reason):
    train, coords, descriptions, series, target = _mutate(raw, reason)
    discs, exclusions = align_discs(train, coords, descriptions, series)
    _reconciles(train, discs, exclusions)
    hit = exclusions[exclusions["reason"] == reason]
    assert len(hit) >= 1
    if reason == L.STUDY_NOT_LABELLED:
        assert (hit["source"] == "coordinate").all() and 123 in set(hit["study_id"])
    else:
        level = target.level.lower().replace("/", "_")
        assert ((hit["study_id"] == target.study_id) & (hit["level"] == level)).any()
        assert not ((discs["study_id"] == target.study_id) & (discs["level"] == level)).any()
    assert hit["detail"].str.len().gt(0).all()


def test_missing_column_is_named():
    with pytest.raises(ValueError, match="spinal_canal_stenosis_l5_s1"):
        label_cells(pd.DataFrame({"study_id": [1], "spinal_canal_stenosis_l1_l2": ["Severe"]}))
