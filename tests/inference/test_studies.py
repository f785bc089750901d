"""Which series each condition is read on: from the series CSV, else from the headers."""

from __future__ import annotations

import pandas as pd

from disc_grade.conditions import spec_of
from disc_grade.inference.studies import choose_series, submission_rows


def _series(rows):
    return pd.DataFrame(
        rows, columns=["study_id", "series_id", "series_description", "plane", "n_slices", "status"]
    )


SERIES = _series(
    [
        (1, 10, "Sagittal T1", "sagittal", 15, "ok"),
        (1, 11, "SAG T2 FSE", "sagittal", 15, "ok"),
        (1, 12, "Axial T2", "axial", 40, "ok"),
        (1, 13, "AX T2 lower", "axial", 20, "ok"),
        (2, 20, "Sagittal T1", "sagittal", 15, "ok"),
        (2, 21, "Axial T2", "axial", 30, "ok"),
        (3, 30, "SAG STIR", "sagittal", 12, "ok"),
        (3, 31, "SAG T2", "sagittal", 17, "ok"),
        (3, 32, "t1_tse_sag", "sagittal", 15, "mixed_orientation"),
    ]
)


def _chosen(name, descriptions=None) -> dict:
    table = choose_series(spec_of(name), SERIES, descriptions)
    return table.groupby("study_id")["series_id"].apply(list).to_dict()


def test_from_headers_each_condition_takes_its_series():
    assert _chosen("spinal") == {1: [11], 3: [31]}  # T2 or STIR, the most slices; none in 2
    assert _chosen("foraminal") == {1: [10], 2: [20]}  # 32 is not readable as one series
    assert _chosen("subarticular") == {1: [12, 13], 2: [21]}  # every axial series


def test_the_series_description_csv_wins_over_headers():
    csv = pd.DataFrame(
        {"study_id": [1, 3], "series_id": [10, 30], "series_description": ["Sagittal T2/STIR"] * 2}
    )
    assert _chosen("spinal", csv) == {1: [10], 3: [30]}
    assert _chosen("foraminal", csv) == {}


def test_submission_has_the_rsna_row_ids():
    table = pd.DataFrame(
        {
            "study_id": [4003253, 2**31 + 5],
            "condition": ["spinal_canal_stenosis", "left_subarticular_stenosis"],
            "level": ["l1_l2", "l5_s1"],
            "p_normal_mild": 0.7,
            "p_moderate": 0.2,
            "p_severe": 0.1,
        }
    )
    sub = submission_rows(table)
    assert list(sub.columns) == ["row_id", "normal_mild", "moderate", "severe"] and len(sub) == 2
    assert sub["row_id"].tolist() == [
        "4003253_spinal_canal_stenosis_l1_l2",
        f"{2**31 + 5}_left_subarticular_stenosis_l5_s1",
    ]
