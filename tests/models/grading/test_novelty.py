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
    threshold_rank,
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
    bundle = fit_novelty(tables, n_components=6, false_rate=0.1, confidence=0.95)
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
    rates = flag_rates(novelty(fit_novelty(tables, 6, 0.1, 0.95), tables))
    assert rates["external_test"]["flagged"] <= 0.2, rates


def test_a_bad_rate_or_confidence_is_named():
    with pytest.raises(ValueError, match="novelty.false_rate"):
        fit_novelty({"spinal": _cohort(0.0)}, 6, 1.5, 0.9)
    with pytest.raises(ValueError, match="novelty.confidence"):
        fit_novelty({"spinal": _cohort(0.0)}, 6, 0.1, 0.0)


@pytest.mark.parametrize("n", [50, 120, 200])
def test_the_threshold_keeps_chance_flags_under_the_rate_with_the_confidence(n):
    """Draw n validation novelties and many in-site ones from one distribution, again and again:
    the in-site share above the chosen rank exceeds the rate in at most 1 - confidence of the
    draws (binomial slack), and one rank lower it would not."""
    rate, confidence, draws = 0.1, 0.9, 20000
    rank, reached = threshold_rank(n, rate, confidence)
    assert reached >= confidence and rank < n
    rng = np.random.default_rng(n)
    scores = np.sort(rng.random((draws, n)), axis=1)
    above = 1.0 - scores[:, rank - 1]  # the in-site share above the threshold (uniform scores)
    assert np.mean(above > rate) <= 1 - confidence + 0.005
    assert np.mean(1.0 - scores[:, rank - 2] > rate) > 1 - confidence


def test_too_few_validation_studies_take_the_largest_and_say_what_they_reach():
    rank, reached = threshold_rank(12, 0.1, 0.95)
    assert rank == 12 and reached == pytest.approx(1 - 0.9**12)
    bundle = fit_novelty({"spinal": _cohort(0.0)}, 6, 0.1, 0.95)  # 30 validation studies
    assert bundle["rule"]["n_validation"] == 30 and bundle["rule"]["rank"] == 30
    scores = novelty(bundle, {"spinal": _cohort(0.0)})
    assert bundle["threshold"] == scores[scores["split"] == "validation"]["novelty"].max()


def _crops(n: int, noise: float, seed: int, scale: float = 1.0) -> np.ndarray:
    """[n, 3, 32, 32] a bright band of varying width on a gradient, three slices, with noise."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0.1, 0.4, 32)[None, :]
    crops = np.empty((n, 3, 32, 32), dtype=np.float32)
    for i in range(n):
        band = np.zeros((32, 32))
        half = int(rng.integers(2, 7))
        band[:, 16 - half : 16 + half] = 0.8
        for c in range(3):
            crops[i, c] = ramp + band + rng.normal(0, noise, (32, 32))
    return scale * crops


def test_image_statistics_ignore_the_stored_scale_and_see_the_noise():
    from disc_grade.models.grading.image_statistics import image_statistics

    crops = _crops(20, 0.03, 0)
    assert np.allclose(image_statistics(crops), image_statistics(_crops(20, 0.03, 0, 7.0)), 1e-4)
    noisier = image_statistics(_crops(20, 0.08, 0))
    assert (noisier[:, 0] > 2 * image_statistics(crops)[:, 0]).all()  # noise, relative


def test_no_crop_gives_an_empty_statistics_table():
    """A study none of whose targets a condition could crop (the localiser found no point):
    its features table is empty, not an error."""
    import pandas as pd

    from disc_grade.models.grading.context_grading import features_table
    from disc_grade.models.grading.image_statistics import STATISTICS, image_statistics

    assert image_statistics(np.zeros((0, 3, 16, 16), dtype=np.float16)).shape == (0, 5)
    index = pd.DataFrame({"study_id": [], "level": [], "side": [], "split": []})
    table = features_table(np.zeros((0, 4)), index, np.zeros((0, 3, 16, 16)))
    assert table.empty and set(STATISTICS) <= set(table.columns)
    assert np.isnan(image_statistics(np.ones((1, 3, 8, 8)))[:, 0]).all()


def test_a_noisier_scanner_is_flagged_by_its_images_when_the_features_do_not_move():
    from disc_grade.models.grading.image_statistics import STATISTICS, image_statistics

    table = _cohort(shift=0.0)  # the grader's features do not see the scanner
    noise = table["split"].map({"external_test": 0.07}).fillna(0.03).to_numpy()
    stats = np.concatenate(
        [image_statistics(_crops(1, sigma, seed)) for seed, sigma in enumerate(noise)]
    )
    tables = {"spinal": table.assign(**dict(zip(STATISTICS, stats.T, strict=True)))}
    rates = flag_rates(novelty(fit_novelty(tables, 6, 0.1, 0.95), tables))
    assert rates["external_test"]["flagged"] >= 0.5, rates
    assert rates["test"]["flagged"] <= 0.15, rates
    without = {"spinal": table}  # the features alone cannot tell
    assert (
        flag_rates(novelty(fit_novelty(without, 6, 0.1, 0.95), without))["external_test"]["flagged"]
        <= 0.2
    )
