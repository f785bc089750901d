from __future__ import annotations

import pandas as pd

from disc_grade.inference.studies import choose_sagittal_t2, every_level, submission_rows


def _series(rows):
    return pd.DataFrame(
        rows, columns=["study_id", "series_id", "series_description", "plane", "n_slices", "status"]
    )


INDEX = pd.DataFrame({"study_id": pd.array([1, 1, 2, 3, 4], dtype="Int64")})
SERIES = _series(
    [
        (1, 10, "Sagittal T1", "sagittal", 15, "ok"),
        (1, 11, "SAG T2 FSE", "sagittal", 15, "ok"),
        (1, 12, "Axial T2", "axial", 40, "ok"),
        (2, 20, "Sagittal T1", "sagittal", 15, "ok"),
        (2, 21, "Axial T2", "axial", 30, "ok"),
        (3, 30, "SAG STIR", "sagittal", 12, "ok"),
        (3, 31, "SAG T2", "sagittal", 17, "ok"),
    ]
)


def test_from_headers_prefers_t2_sagittal_with_most_slices():
    chosen = choose_sagittal_t2(INDEX, SERIES).set_index("study_id")
    assert chosen.loc[1, "series_id"] == 11 and chosen.loc[3, "series_id"] == 31
    assert chosen.loc[2, "status"] == "not_graded" and "sagittal T2" in chosen.loc[2, "reason"]
    assert (
        chosen.loc[4, "status"] == "not_graded" and chosen.loc[4, "reason"] == "no readable series"
    )


def test_the_series_description_csv_wins_over_headers():
    csv = pd.DataFrame(
        {"study_id": [1, 3], "series_id": [10, 30], "series_description": ["Sagittal T2/STIR"] * 2}
    )
    chosen = choose_sagittal_t2(INDEX, SERIES, csv).set_index("study_id")
    assert chosen.loc[1, "series_id"] == 10 and chosen.loc[3, "series_id"] == 30
    assert chosen.loc[2, "status"] == "not_graded"


def test_submission_has_the_rsna_row_ids():
    table = every_level(pd.Series([4003253, 2**31 + 5])).assign(
        p_normal_mild=0.7, p_moderate=0.2, p_severe=0.1
    )
    sub = submission_rows(table)
    assert list(sub.columns) == ["row_id", "normal_mild", "moderate", "severe"] and len(sub) == 10
    assert sub["row_id"].iloc[0] == "4003253_spinal_canal_stenosis_l1_l2"
    assert sub["row_id"].iloc[-1] == f"{2**31 + 5}_spinal_canal_stenosis_l5_s1"
