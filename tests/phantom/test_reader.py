"""The latent-to-grade model against its stated noise, and the Bayes ceiling it implies."""

from __future__ import annotations

import numpy as np
import pytest

from disc_grade.evaluation.ceiling import oracle_balanced_accuracy
from disc_grade.phantom.reader import ReaderModel, compromise

PRIOR = (0.878, 0.075, 0.048)


@pytest.mark.parametrize("noise", [0.15, 0.3, 0.5])
def test_grades_scatter_around_the_latent_as_the_stated_noise_says(noise):
    model = ReaderModel.from_prior(PRIOR, noise)
    rng = np.random.default_rng(0)
    for z in (0.5, model.thresholds[0], np.mean(model.thresholds), model.thresholds[1], 2.4):
        grades = model.grade(np.full(20_000, z), rng.standard_normal(20_000))
        observed = np.bincount(grades, minlength=3) / len(grades)
        np.testing.assert_allclose(observed, model.probabilities(np.array([z]))[0], atol=0.012)


def test_thresholds_keep_the_prior_under_noise():
    rng = np.random.default_rng(1)
    z = rng.standard_normal(200_000)
    for noise in (0.0, 0.3, 0.6):
        model = ReaderModel.from_prior(PRIOR, noise)
        grades = model.grade(z, rng.standard_normal(z.size))
        np.testing.assert_allclose(np.bincount(grades, minlength=3) / z.size, PRIOR, atol=0.006)


def test_moderate_overlaps_both_neighbours_in_what_the_image_shows():
    model = ReaderModel.from_prior(PRIOR, 0.3)
    rng = np.random.default_rng(2)
    z = rng.standard_normal(100_000) + 1.2
    grades = model.grade(z, rng.standard_normal(z.size))
    shown = compromise(z)
    moderate = shown[grades == 1]
    assert (moderate < shown[grades == 0].max()).mean() > 0.05  # some look Normal/Mild
    assert (moderate > shown[grades == 2].min()).mean() > 0.05  # some look Severe
    assert np.all(np.diff(compromise(np.linspace(-0.5, 3.5, 50))) > 0), (
        "more latent, more narrowing"
    )


def test_the_ceiling_falls_with_reader_noise_and_is_perfect_without():
    rng = np.random.default_rng(3)
    z = rng.standard_normal(100_000) * 1.1 + 0.3
    ceilings = []
    for noise in (0.0, 0.2, 0.4, 0.8):
        model = ReaderModel.from_prior(PRIOR, noise)
        grades = model.grade(z, rng.standard_normal(z.size))
        prior = np.bincount(grades, minlength=3) / grades.size
        ceilings.append(oracle_balanced_accuracy(grades, model.probabilities(z), prior))
    assert ceilings[0] == pytest.approx(1.0)
    assert all(a > b for a, b in zip(ceilings, ceilings[1:], strict=False)), ceilings
    assert ceilings[-1] > 1 / 3, "the latent still says something"
