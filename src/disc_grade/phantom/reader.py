"""Grades as a reader's call on a continuum: latent canal compromise, thresholds and reader noise.

Every disc has a latent severity ``z`` (standard-normal scale, correlated within the study,
shifted per level). What the image shows is the canal compromise ``c = compromise(z)``, the
fraction of the canal's AP diameter lost at the disc. The label is the reader's grade:
``z + reader_noise * e`` cut at two thresholds, so Moderate overlaps both neighbours. The
thresholds are scaled by ``sqrt(1 + reader_noise**2)`` so the grade frequencies stay at the
RSNA prior. Knowing ``z`` exactly, the best any grader can do is the Bayes rule: its balanced
accuracy is the ceiling the report quotes.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

_NORMAL = NormalDist()
# where the visible compromise rises: c = floor + span * Phi((z - centre) / width)
COMPROMISE_FLOOR, COMPROMISE_SPAN = 0.04, 0.86
COMPROMISE_CENTRE, COMPROMISE_WIDTH = 1.45, 0.38
RSNA_CANAL_PRIOR = (0.878, 0.075, 0.048)  # the canal's frequencies COMPROMISE_CENTRE was set at


def compromise(z: np.ndarray | float, centre: float = COMPROMISE_CENTRE) -> np.ndarray:
    """Fraction of the canal's (or foramen's, or recess's) width lost at latent severity ``z``.

    ``centre`` is where the loss rises; a family graded with other frequencies passes its own
    (``family_centre``), so its compromise rises where its reader's thresholds lie.
    """
    from scipy.stats import norm

    z = np.asarray(z, dtype=float)
    return COMPROMISE_FLOOR + COMPROMISE_SPAN * norm.cdf((z - centre) / COMPROMISE_WIDTH)


def level_shift(prior, noise: float, normal_share: float) -> float:
    """How far a level's latents move so that ``normal_share`` of its grades are Normal/Mild.

    The reader's thresholds stay those of ``prior`` (the condition's overall frequencies): a
    level with fewer Normal/Mild grades has its latents moved up, so it has more Moderate and
    Severe grades too, as the real levels do.
    """
    reader = ReaderModel.from_prior(prior, noise)
    return float(reader.thresholds[0] - np.sqrt(1 + noise**2) * _NORMAL.inv_cdf(normal_share))


def family_centre(prior, noise: float) -> float:
    """Where a family's compromise rises: as far above its reader's first threshold as the
    canal's does at the RSNA 2024 frequencies (``COMPROMISE_CENTRE``), whatever the grade mix."""
    own = ReaderModel.from_prior(prior, noise).thresholds[0]
    reference = ReaderModel.from_prior(RSNA_CANAL_PRIOR, noise).thresholds[0]
    return COMPROMISE_CENTRE + own - reference


@dataclass(frozen=True)
class ReaderModel:
    """Thresholds on the latent scale and the reader's noise."""

    thresholds: tuple[float, float]
    noise: float

    @classmethod
    def from_prior(cls, prior, noise: float) -> ReaderModel:
        """Thresholds that keep the grade frequencies at ``prior`` under reader noise ``noise``."""
        prior = np.asarray(prior, dtype=float) / np.sum(prior)
        scale = np.sqrt(1 + noise**2)
        t1 = _NORMAL.inv_cdf(min(max(prior[0], 1e-6), 1 - 1e-6)) * scale
        t2 = _NORMAL.inv_cdf(min(max(prior[0] + prior[1], 1e-6), 1 - 1e-6)) * scale
        return cls((float(t1), float(t2)), float(noise))

    def grade(self, z: np.ndarray | float, e: np.ndarray | float) -> np.ndarray:
        """The reader's grade (0, 1, 2) of latent ``z`` with standard-normal reading error ``e``."""
        return np.digitize(np.asarray(z) + self.noise * np.asarray(e), self.thresholds)

    def probabilities(self, z: np.ndarray) -> np.ndarray:
        """[n, 3] probability of each grade given the latent (the reader's noise integrated)."""
        from scipy.stats import norm

        z = np.asarray(z, dtype=float).reshape(-1)
        if self.noise == 0:
            return np.eye(3)[self.grade(z, 0.0)]
        below = [norm.cdf((t - z) / self.noise) for t in self.thresholds]
        return np.stack([below[0], below[1] - below[0], 1 - below[1]], axis=1)
