from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from disc_grade.alignment.split import assign_splits


def _discs(n_studies=60, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.choice(3, size=(n_studies, 5), p=[0.85, 0.1, 0.05])
    return pd.DataFrame(
        {"study_id": np.repeat(np.arange(n_studies) + 10**9, 5), "label": labels.ravel()}
    )


PARAMS = {"train": 0.6, "validation": 0.2, "test": 0.2, "seed": 3}


def _studies(discs: pd.DataFrame) -> pd.DataFrame:
    """The per-study table ``assign_splits`` reads: worst grade and site."""
    grouped = discs.groupby("study_id")
    out = grouped["label"].max().rename("worst_label").reset_index()
    site = (
        grouped["site"].first() if "site" in discs else pd.Series("unknown", grouped.size().index)
    )
    return out.assign(site=out["study_id"].map(site))


def test_no_study_on_two_sides_and_fractions_hold():
    splits = assign_splits(_studies(_discs()), PARAMS)
    assert splits["study_id"].is_unique
    share = splits["split"].value_counts(normalize=True)
    assert share["train"] == pytest.approx(0.6, abs=0.07) and share["test"] == pytest.approx(
        0.2, abs=0.07
    )


def test_stratified_by_worst_severity():
    splits = assign_splits(_studies(_discs(200)), PARAMS)
    for split in ("train", "validation", "test"):
        assert set(splits.loc[splits.split == split, "worst_label"]) == {0, 1, 2}


def test_seeded_and_deterministic():
    a, b = assign_splits(_studies(_discs()), PARAMS), assign_splits(_studies(_discs()), PARAMS)
    pd.testing.assert_frame_equal(a, b)
    c = assign_splits(_studies(_discs()), {**PARAMS, "seed": 4})
    assert not a["split"].equals(
        c.set_index("study_id").loc[a.study_id, "split"].reset_index(drop=True)
    )


def test_folds_cover_the_non_test_studies():
    splits = assign_splits(_studies(_discs()), {**PARAMS, "n_folds": 3})
    assert (splits.loc[splits.split == "test", "fold"] == -1).all()
    assert set(splits.loc[splits.split != "test", "fold"]) == {0, 1, 2}
    # each split is dealt over the folds in turn, so every fold's complement has validation
    # studies to stop on, and the same split does not change with the folds
    for split in ("train", "validation"):
        counts = splits.loc[splits.split == split, "fold"].value_counts()
        assert set(counts.index) == {0, 1, 2} and counts.max() - counts.min() <= 1, split
    plain = assign_splits(_studies(_discs()), PARAMS)
    assert plain["split"].equals(splits["split"]) and (plain["fold"] == -1).all()
    n_validation = int((splits["split"] == "validation").sum())
    with pytest.raises(ValueError, match="validation studies"):
        assign_splits(_studies(_discs()), {**PARAMS, "n_folds": n_validation + 1})


@pytest.mark.parametrize(
    "bad", [{"train": 0.7, "validation": 0.2, "test": 0.2}, {**PARAMS, "n_folds": 1}]
)
def test_bad_split_parameters_are_named(bad):
    with pytest.raises(ValueError, match="split"):
        assign_splits(_studies(_discs()), bad)


def _sited(n_studies=60, seed=0):
    discs = _discs(n_studies, seed)
    sites = np.array(["site A", "site B", "site C"])[discs["study_id"].to_numpy() % 3]
    return discs.assign(site=sites)


def test_a_held_out_site_goes_whole_to_external_test_and_nowhere_else():
    discs = _sited()
    splits = assign_splits(_studies(discs), {**PARAMS, "holdout_sites": ["site B"]})
    assert splits["study_id"].is_unique and set(splits["study_id"]) == set(discs["study_id"])
    site = discs.groupby("study_id")["site"].first()
    external = splits[splits["split"] == "external_test"]
    assert set(external["study_id"]) == set(site[site == "site B"].index)
    inside = splits[splits["split"] != "external_test"]
    assert not set(site[inside["study_id"]]) & {"site B"}, "a held-out study leaked into training"
    assert {"train", "validation", "test"} <= set(inside["split"])


def test_holding_out_nothing_is_the_random_split():
    discs = _sited()
    pd.testing.assert_frame_equal(
        assign_splits(_studies(discs), {**PARAMS, "holdout_sites": []}),
        assign_splits(_studies(discs), PARAMS),
    )


def test_an_unknown_held_out_site_is_named():
    with pytest.raises(ValueError, match="site Z"):
        assign_splits(_studies(_sited()), {**PARAMS, "holdout_sites": ["site Z"]})


def test_the_default_follows_the_datas_own_suggestion_and_holds_out_nothing_without_one():
    discs = _sited()
    default = {**PARAMS, "holdout_sites": None}
    suggested = assign_splits(_studies(discs), default, {"holdout_sites": ["site B"]})
    named = assign_splits(_studies(discs), {**PARAMS, "holdout_sites": ["site B"]})
    pd.testing.assert_frame_equal(suggested, named)
    # data without a suggestion (any folder the phantom did not write): nothing held out
    plain = assign_splits(_studies(discs), default, {})
    assert "external_test" not in set(plain["split"])
    pd.testing.assert_frame_equal(
        plain, assign_splits(_studies(discs), {**PARAMS, "holdout_sites": []})
    )
    # a setting wins over the suggestion, [] included
    none = assign_splits(
        _studies(discs), {**PARAMS, "holdout_sites": []}, {"holdout_sites": ["site B"]}
    )
    assert "external_test" not in set(none["split"])


def test_a_held_out_site_given_as_a_string_is_named():
    with pytest.raises(ValueError, match="holdout_sites must be null"):
        assign_splits(_studies(_sited()), {**PARAMS, "holdout_sites": "site B"})


def _roi_index(n_studies=40, seed=0):
    discs = _discs(n_studies, seed)
    splits = assign_splits(_studies(discs), PARAMS)
    return discs.merge(splits[["study_id", "split"]], on="study_id")


@pytest.mark.parametrize("fraction", [0.05, 0.25, 0.5, 1.0])
def test_a_label_fraction_keeps_that_share_of_training_studies_and_every_other_row(fraction):
    from disc_grade.alignment.split import subsample_training

    index = _roi_index()
    subset = subsample_training(index, fraction, seed=1)
    train = index.loc[index["split"] == "train", "study_id"].unique()
    kept = subset.loc[subset["split"] == "train", "study_id"].unique()
    assert len(kept) >= 1 and len(kept) == pytest.approx(fraction * len(train), abs=3)
    pd.testing.assert_frame_equal(
        subset[subset["split"] != "train"], index[index["split"] != "train"]
    )
    assert set(kept) <= set(subsample_training(index, min(1.0, fraction * 2), seed=1)["study_id"])


def test_a_label_fraction_outside_zero_one_is_refused():
    from disc_grade.alignment.split import subsample_training

    with pytest.raises(ValueError, match="study.fraction"):
        subsample_training(_roi_index(), 0.0, seed=0)


def test_every_study_of_train_csv_gets_a_split_and_its_site_from_any_series():
    from disc_grade.alignment.split import study_table

    train = pd.DataFrame(
        {
            "study_id": [1, 2, 3],
            **{
                f"spinal_canal_stenosis_{lv}": ["Normal/Mild", "Severe", None]
                for lv in ("l1_l2", "l2_l3", "l3_l4", "l4_l5", "l5_s1")
            },
        }
    )
    # study 3 has no sagittal T2 and no canal grade: its site still comes from its axial series
    series = pd.DataFrame({"study_id": [1, 2, 3], "site": ["site A", "unknown", "site E"]})
    table = study_table(train, series)
    assert table["worst_label"].tolist() == [0, 2, -1]
    assert table["site"].tolist() == ["site A", "unknown", "site E"]
    splits = assign_splits(table, {**PARAMS, "holdout_sites": ["site E"]})
    assert set(splits["study_id"]) == {1, 2, 3}
    assert splits.set_index("study_id").loc[3, "split"] == "external_test"
