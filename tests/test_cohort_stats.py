"""Cohort rates against the real training data's: by hand, and the phantom held to them."""

from __future__ import annotations

import pandas as pd
import pytest

from disc_grade.cohort_stats import (
    RARE,
    RSNA_2024_TRAIN,
    compare,
    label_rates,
    series_rates,
)
from disc_grade.rsna import CONDITIONS, LEVELS, label_column


def _train(cells: dict[str, list], n: int = 3) -> pd.DataFrame:
    table = {"study_id": [1, 2**31 + 5, 7][:n]}
    for condition in CONDITIONS:
        for level in LEVELS:
            column = label_column(condition, level)
            table[column] = cells.get(column, ["Normal/Mild"] * n)
    return pd.DataFrame(table)


def test_label_rates_by_hand():
    train = _train(
        {
            "spinal_canal_stenosis_l4_l5": ["Severe", "Moderate", None],
            "left_subarticular_stenosis_l1_l2": ["Normal/Mild", None, "Severe"],
        }
    )
    rates = label_rates(train)
    assert rates["spinal l4_l5 severe"] == 0.5 and rates["spinal l4_l5 moderate"] == 0.5
    assert rates["spinal severe"] == pytest.approx(1 / 14)  # 15 cells, one blank
    assert rates["blank spinal cells"] == pytest.approx(1 / 15)
    assert rates["blank subarticular cells"] == pytest.approx(1 / 30)
    assert rates["subarticular severe"] == pytest.approx(1 / 29)
    assert rates["blank cells"] == pytest.approx(2 / 75)
    assert rates["studies with a blank cell"] == pytest.approx(2 / 3)
    assert rates["studies with a Severe spinal level"] == pytest.approx(1 / 3)
    assert rates["study ids above 2^31"] == pytest.approx(1 / 3)


def test_series_rates_by_hand():
    train = _train({})
    descriptions = pd.DataFrame(
        {
            "study_id": [1, 1, 1, 1, 2**31 + 5, 2**31 + 5, 7],
            "series_id": [10, 11, 12, 13, 20, 21, 30],
            "series_description": [
                "Sagittal T2/STIR",
                "Sagittal T1",
                "Axial T2",
                "Axial T2",
                "Sagittal T1",
                "Sagittal T1",
                "Sagittal T2/STIR",
            ],
        }
    )
    rates = series_rates(train, descriptions)
    assert rates == pytest.approx(
        {
            "studies with several axial T2 series": 1 / 3,
            "studies with two sagittal T1 series": 1 / 3,
            "studies without sagittal T1": 1 / 3,
            "studies without sagittal T2": 1 / 3,
        }
    )


def test_compare_flags_a_rate_off_by_more_than_twice_and_lets_a_planted_rare_case_pass():
    rates = dict(RSNA_2024_TRAIN)
    rates["spinal severe"] *= 2.5
    rates["studies without sagittal T2"] = 1 / 120  # planted once in 120 studies
    table = compare(rates).set_index("rate")
    assert not table.loc["spinal severe", "ok"]
    assert table.loc["studies without sagittal T2", "ok"]
    assert table.drop(index="spinal severe")["ok"].all()


def _phantom_rates(n_studies: int) -> pd.DataFrame:
    from disc_grade.phantom.statistics import phantom_rates

    return compare(phantom_rates(n_studies)).set_index("rate")


def test_the_phantoms_configuration_draws_every_real_rate_within_a_factor_of_two():
    table = _phantom_rates(2000)  # the tables only: no image is rendered
    assert table["ok"].all(), table[~table["ok"]]


def test_300_studies_at_the_real_mix_keep_the_rates_that_300_studies_can_show():
    # per-level rates rest on a handful of discs in 300 studies (docs/phantom.md shows them);
    # a study's levels share most of their latent (as the real ones do), so 120 studies at
    # the real mix can leave a rate of 7.5% at half of it
    table = _phantom_rates(300)
    shown = [r for r in table.index if not r.startswith("spinal l") and r not in RARE]
    assert table.loc[shown, "ok"].all(), table.loc[shown][~table.loc[shown, "ok"]]
    assert (table.loc[sorted(RARE), "cohort"] > 0).all(), "every rare case is planted"
