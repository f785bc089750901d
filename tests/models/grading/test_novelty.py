"""The warning fires on a study from a shifted site and not on an in-site one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from disc_grade.models.grading.novelty import (
    as_tensors,
    fit_novelty,
    flag_rates,
    from_tensors,
    novelty,
)
from disc_grade.rsna import LEVELS, SPINAL


def _features(n_studies: int, split: str, shift: float, seed: int, first: int) -> pd.DataFrame:
    """Five targets a study, 12 features each; a site's scanner moves every feature by
    ``shift`` (contrast, noise: what the encoder sees of a scanner), whatever the grade."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_studies):
        study_offset = rng.normal(0, 0.5, 12)  # studies differ within a site
        for level in LEVELS:
            grade = int(rng.integers(3))
            x = study_offset + rng.normal(0, 1, 12) + grade * 0.5 + shift
            rows.append(
                {
                    "study_id": first + s,
                    "condition": SPINAL,
                    "level": level,
                    "split": split,
                    "label": grade,
                    **{f"f{i}": v for i, v in enumerate(x)},
                }
            )
    return pd.DataFrame(rows)


def _cohort(shift: float) -> pd.DataFrame:
    return pd.concat(
        [
            _features(60, "train", 0.0, 0, 0),
            _features(30, "validation", 0.0, 1, 100),
            _features(30, "test", 0.0, 2, 200),
            _features(30, "external_test", shift, 3, 300),
        ],
        ignore_index=True,
    )


@pytest.mark.parametrize("shift", [1.0, -1.0])  # a scanner moves features either way
def test_a_shifted_sites_studies_are_flagged_and_in_site_ones_are_not(shift):
    tables = {"spinal": _cohort(shift=shift)}
    bundle = fit_novelty(tables, n_components=6, quantile=0.95)
    rates = flag_rates(novelty(bundle, tables))
    assert rates["external_test"]["flagged"] >= 0.5, rates  # the target: half or more
    assert rates["test"]["flagged"] <= 0.15, rates
    # the bundle survives a weights_only checkpoint and scores a new study alone
    stored = from_tensors(as_tensors(bundle))
    shifted = _features(1, "new", 1.5 * shift, 9, 900).drop(columns=["split"])
    usual = _features(1, "new", 0.0, 9, 901).drop(columns=["split"])
    assert novelty(stored, {"spinal": shifted})["unlike_training"].all()
    assert not novelty(stored, {"spinal": usual})["unlike_training"].any()


def test_without_a_shift_the_held_out_site_is_flagged_as_rarely_as_in_site():
    tables = {"spinal": _cohort(shift=0.0)}
    rates = flag_rates(novelty(fit_novelty(tables, 6, 0.95), tables))
    assert rates["external_test"]["flagged"] <= 0.2, rates


def test_a_bad_quantile_is_named():
    with pytest.raises(ValueError, match="novelty.quantile"):
        fit_novelty({"spinal": _cohort(0.0)}, 6, 1.5)
