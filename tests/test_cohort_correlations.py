"""How a cohort's grades hang together: by hand, and the phantom held to the real labels'."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from disc_grade.cohort_correlations import (
    RSNA_2024_CORRELATIONS,
    compare,
    grade_codes,
    label_correlations,
    within_study,
)
from disc_grade.phantom.config import GRADE_MIXES, PhantomConfig
from disc_grade.rsna import CONDITIONS, LEVELS, SEVERITIES, SPINAL, label_column
from tests.conftest import PROJECT_ROOT


def _train(grades: dict[str, np.ndarray]) -> pd.DataFrame:
    """A train.csv whose conditions have the [studies, levels] grades given (else Normal/Mild)."""
    n = len(next(iter(grades.values())))
    table = {"study_id": np.arange(n)}
    for condition in CONDITIONS:
        own = grades.get(condition, np.zeros((n, len(LEVELS)), dtype=int))
        for k, level in enumerate(LEVELS):
            table[label_column(condition, level)] = [SEVERITIES[g] for g in own[:, k]]
    return pd.DataFrame(table)


def test_same_level_correlations_by_hand():
    rng = np.random.default_rng(0)
    canal = rng.integers(0, 3, size=(40, len(LEVELS)))
    train = _train(
        {
            SPINAL: canal,
            "left_subarticular_stenosis": canal,
            "right_subarticular_stenosis": 2 - canal,
        }
    )
    out = label_correlations(train)
    assert out["canal ~ left recess"] == pytest.approx(1.0)
    assert out["canal ~ right recess"] == pytest.approx(-1.0)
    assert np.isnan(out["canal ~ left foramen"])  # a constant condition has no rank order


def test_a_target_against_its_studys_other_levels_by_hand():
    # two studies: every level of the first Severe, of the second Normal/Mild, one blank cell
    grades = {SPINAL: np.array([[2, 2, 2, 2, 2], [0, 0, 0, 0, 1]])}
    codes = grade_codes(_train(grades))
    codes[SPINAL][0, 0] = np.nan
    # targets 2,2,2,2 | 0,0,0,0,1 against their others' means 2,2,2,2 | .25,.25,.25,.25,0
    assert within_study(codes)["spinal ~ its study's other levels"] == pytest.approx(
        pd.Series([2, 2, 2, 2, 0, 0, 0, 0, 1]).corr(
            pd.Series([2, 2, 2, 2, 0.25, 0.25, 0.25, 0.25, 0]), method="spearman"
        )
    )


def test_the_phantom_at_the_real_mix_draws_the_real_labels_correlations():
    from disc_grade.phantom.cohort import make_cohort

    _, train, _, _, _ = make_cohort(PhantomConfig(n_studies=2000, seed=1))  # tables only
    table = compare(label_correlations(train)).set_index("correlation")
    assert set(table.index) == set(RSNA_2024_CORRELATIONS)
    assert table["ok"].all(), table[~table["ok"]]


def test_the_grade_mix_is_one_setting_and_an_explicit_prior_overrides_it():
    measured = PhantomConfig(grade_mix="measurement")
    assert measured.severity_prior == GRADE_MIXES["measurement"]["severity_prior"]
    assert PhantomConfig().severity_prior == GRADE_MIXES["rsna"]["severity_prior"]
    own = PhantomConfig.from_params({"grade_mix": "measurement", "severity_prior": [0.5, 0.3, 0.2]})
    assert own.severity_prior == (0.5, 0.3, 0.2)
    assert own.foraminal_prior == GRADE_MIXES["measurement"]["foraminal_prior"]
    with pytest.raises(ValueError, match="grade_mix must be one of"):
        PhantomConfig(grade_mix="balanced")
    with pytest.raises(ValueError, match="shares of study, disc and facet sum to"):
        PhantomConfig(study_share=(0.7, 0.3, 0.3), disc_share=(0.4, 0.0, 0.0))
    base = yaml.safe_load((PROJECT_ROOT / "conf/base/parameters_phantom.yml").read_text())
    real = yaml.safe_load((PROJECT_ROOT / "conf/realistic/parameters_phantom.yml").read_text())
    assert base["phantom"]["cohort"]["grade_mix"] == "measurement"
    assert real["phantom"]["cohort"]["grade_mix"] == "rsna"
