"""The phantom cohort's parameters (``conf/base/parameters_phantom.yml``, key ``phantom.cohort``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from disc_grade.phantom.sites import SITES
from disc_grade.rsna import LEVELS

DEFAULT_SITE_WEIGHTS = (("A", 0.3), ("B", 0.25), ("C", 0.15), ("D", 0.15), ("E", 0.15))


@dataclass(frozen=True)
class PhantomConfig:
    """Parameters of the phantom cohort; the defaults are those of ``conf/base``."""

    n_studies: int = 120
    seed: int = 2024
    image_size: int = 192
    image_size_jitter: float = 0.15
    # sizes to draw each study's sagittal size from (empty: image_size, scaled by the site and
    # the jitter), and the share of studies whose sagittal images are narrower than tall
    image_sizes: tuple[int, ...] = ()
    non_square_rate: float = 0.0
    n_sagittal_slices: int = 11
    n_axial_per_level: int = 3
    # grade frequencies of the RSNA 2024 training labels (Normal/Mild, Moderate, Severe)
    severity_prior: tuple[float, float, float] = (0.878, 0.075, 0.048)
    foraminal_prior: tuple[float, float, float] = (0.780, 0.181, 0.040)
    subarticular_prior: tuple[float, float, float] = (0.714, 0.190, 0.096)
    # the canal's Normal/Mild share per level, L1/L2 .. L5/S1 (most Severe at L4/L5)
    spinal_level_normal: tuple[float, ...] = (0.955, 0.897, 0.822, 0.751, 0.965)
    study_correlation: float = 0.6
    reader_noise: float = 0.3
    site_weights: tuple[tuple[str, float], ...] = DEFAULT_SITE_WEIGHTS
    narrow_canal_rate: float = 0.12
    slip_rate: float = 0.1
    endplate_change_rate: float = 0.15
    quirk_rate: float = 0.08  # reversed instance numbers, RLE files, no SliceThickness, each
    # studies with blank subarticular cells (1-3 upper levels, one or both sides) and with
    # blank foraminal cells; the canal's blank cell is planted once (real: 5 in 1,975 studies)
    subarticular_blank_rate: float = 0.085
    foraminal_blank_rate: float = 0.017
    second_axial_rate: float = 0.17  # studies whose lower levels come in a second axial series
    between_slice_rate: float = 0.5  # studies with an axial slice between each pair of stacks
    # the sites whose studies the phantom suggests holding out as an external test
    # (``phantom_split.json``; the split follows it unless alignment.split.holdout_sites is set)
    holdout_sites: tuple[str, ...] = ("E",)

    def prior_of(self, family: str) -> tuple[float, float, float]:
        """The grade frequencies of a condition family (``spinal``, ``foraminal``, ``subarticular``)."""
        return {
            "spinal": self.severity_prior,
            "foraminal": self.foraminal_prior,
            "subarticular": self.subarticular_prior,
        }[family]

    @classmethod
    def from_params(cls, params: dict) -> PhantomConfig:
        """Build a config from a parameters dict, rejecting unknown keys and bad values.

        Raises:
            ValueError: a key is unknown or a value is out of range.
        """
        known = set(cls.__dataclass_fields__)
        unknown = set(params) - known
        if unknown:
            raise ValueError(
                f"unknown phantom parameter(s) {sorted(unknown)}; known: {sorted(known)}"
            )
        values = dict(params)
        for key in (
            "severity_prior",
            "foraminal_prior",
            "subarticular_prior",
            "spinal_level_normal",
        ):
            if key in values:
                values[key] = tuple(float(v) for v in values[key])
        if "image_sizes" in values:
            values["image_sizes"] = tuple(int(v) for v in values["image_sizes"] or ())
        if "holdout_sites" in values:
            values["holdout_sites"] = tuple(str(v) for v in values["holdout_sites"] or ())
        if "site_weights" in values:
            values["site_weights"] = tuple(
                (str(k), float(v)) for k, v in dict(values["site_weights"]).items()
            )
        config = cls(**values)
        config.validate()
        return config

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first parameter out of range."""
        if self.n_studies < 1:
            raise ValueError(f"phantom.n_studies must be >= 1, got {self.n_studies}")
        if not 64 <= self.image_size <= 1024:
            raise ValueError(f"phantom.image_size must be in [64, 1024], got {self.image_size}")
        if any(not 64 <= size <= 1024 for size in self.image_sizes):
            raise ValueError(f"phantom.image_sizes must lie in [64, 1024], got {self.image_sizes}")
        if self.n_sagittal_slices < 5:
            raise ValueError(
                f"phantom.n_sagittal_slices must be >= 5, got {self.n_sagittal_slices}"
            )
        for key in ("severity_prior", "foraminal_prior", "subarticular_prior"):
            prior = np.asarray(getattr(self, key))
            if prior.shape != (3,) or (prior < 0).any() or prior.sum() <= 0:
                raise ValueError(
                    f"phantom.{key} must be 3 non-negative numbers, got {getattr(self, key)}"
                )
        normal = np.asarray(self.spinal_level_normal)
        if normal.shape != (len(LEVELS),) or not ((normal > 0) & (normal < 1)).all():
            raise ValueError(
                f"phantom.spinal_level_normal needs {len(LEVELS)} shares in (0, 1), got "
                f"{self.spinal_level_normal}"
            )
        if not 0 <= self.study_correlation < 1:
            raise ValueError(
                f"phantom.study_correlation must be in [0, 1), got {self.study_correlation}"
            )
        if self.reader_noise < 0:
            raise ValueError(f"phantom.reader_noise must be >= 0, got {self.reader_noise}")
        names = [name for name, _ in self.site_weights]
        if (
            not names
            or any(n not in SITES for n in names)
            or any(w < 0 for _, w in self.site_weights)
        ):
            raise ValueError(
                f"phantom.site_weights must map sites {sorted(SITES)} to weights >= 0, got {dict(self.site_weights)}"
            )
        if sum(w for _, w in self.site_weights) <= 0:
            raise ValueError("phantom.site_weights must not all be 0")
        weights = dict(self.site_weights)
        if any(weights.get(site, 0) <= 0 for site in self.holdout_sites):
            raise ValueError(
                f"phantom.holdout_sites {list(self.holdout_sites)} must name sites that "
                f"site_weights gives studies to, got {weights}"
            )
        for key in (
            "narrow_canal_rate",
            "slip_rate",
            "endplate_change_rate",
            "quirk_rate",
            "subarticular_blank_rate",
            "foraminal_blank_rate",
            "second_axial_rate",
            "between_slice_rate",
            "non_square_rate",
        ):
            if not 0 <= getattr(self, key) <= 1:
                raise ValueError(f"phantom.{key} must be in [0, 1], got {getattr(self, key)}")
