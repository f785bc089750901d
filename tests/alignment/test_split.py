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


def test_no_study_on_two_sides_and_fractions_hold():
    splits = assign_splits(_discs(), PARAMS)
    assert splits["study_id"].is_unique
    share = splits["split"].value_counts(normalize=True)
    assert share["train"] == pytest.approx(0.6, abs=0.07) and share["test"] == pytest.approx(
        0.2, abs=0.07
    )


def test_stratified_by_worst_severity():
    splits = assign_splits(_discs(200), PARAMS)
    for split in ("train", "validation", "test"):
        assert set(splits.loc[splits.split == split, "worst_label"]) == {0, 1, 2}


def test_seeded_and_deterministic():
    a, b = assign_splits(_discs(), PARAMS), assign_splits(_discs(), PARAMS)
    pd.testing.assert_frame_equal(a, b)
    c = assign_splits(_discs(), {**PARAMS, "seed": 4})
    assert not a["split"].equals(
        c.set_index("study_id").loc[a.study_id, "split"].reset_index(drop=True)
    )


def test_folds_cover_the_non_test_studies():
    splits = assign_splits(_discs(), {**PARAMS, "n_folds": 3})
    assert (splits.loc[splits.split == "test", "fold"] == -1).all()
    assert set(splits.loc[splits.split != "test", "fold"]) == {0, 1, 2}


@pytest.mark.parametrize(
    "bad", [{"train": 0.7, "validation": 0.2, "test": 0.2}, {**PARAMS, "n_folds": 1}]
)
def test_bad_split_parameters_are_named(bad):
    with pytest.raises(ValueError, match="alignment.split"):
        assign_splits(_discs(), bad)
