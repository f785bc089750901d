"""The phantom cohort's parameters (``conf/base/parameters_phantom.yml``, key ``phantom.cohort``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from disc_grade.phantom.sites import SITES
from disc_grade.rsna import FAMILIES, LEVELS

DEFAULT_SITE_WEIGHTS = (("A", 0.3), ("B", 0.25), ("C", 0.15), ("D", 0.15), ("E", 0.15))
FAMILY_ORDER = FAMILIES  # the order of per-family tuples (canal, foramina, recesses)
# Named grade mixes: the frequencies of Normal/Mild, Moderate and Severe per condition family
# and the canal's Normal/Mild share per level. ``rsna``: the RSNA 2024 training labels (the
# dataclass default, ``conf/realistic``); ``measurement``: enough Moderate and Severe targets
# for a 120-study cohort's test split to tell graders apart (``conf/base``, the demo).
GRADE_MIXES: dict[str, dict[str, tuple[float, ...]]] = {
    "rsna": {
        "severity_prior": (0.878, 0.075, 0.048),
        "foraminal_prior": (0.780, 0.181, 0.040),
        "subarticular_prior": (0.714, 0.190, 0.096),
        "spinal_level_normal": (0.955, 0.897, 0.822, 0.751, 0.965),
    },
    "measurement": {
        "severity_prior": (0.42, 0.30, 0.28),
        "foraminal_prior": (0.48, 0.30, 0.22),
        "subarticular_prior": (0.42, 0.30, 0.28),
        "spinal_level_normal": (0.60, 0.50, 0.36, 0.24, 0.40),
    },
}
MIXED = tuple(GRADE_MIXES["rsna"])


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
    # the grade frequencies (``GRADE_MIXES``); any of its four tuples set explicitly overrides it
    grade_mix: str = "rsna"
    severity_prior: tuple[float, float, float] | None = None  # Normal/Mild, Moderate, Severe
    foraminal_prior: tuple[float, float, float] | None = None
    subarticular_prior: tuple[float, float, float] | None = None
    # the canal's Normal/Mild share per level, L1/L2 .. L5/S1 (most Severe at L4/L5)
    spinal_level_normal: tuple[float, ...] | None = None
    # shared causes of a latent severity, as shares of its variance per family (canal, foramina,
    # recesses): the study's own (every level and condition), a level's disc bulge and ligamentum
    # flavum (the canal and both recesses), a level's facets (both foramina, the recesses a
    # little); the rest is the target's own. Fitted to the real labels' correlations
    # (``cohort_correlations``, docs/phantom.md).
    study_share: tuple[float, float, float] = (0.65, 0.36, 0.43)
    disc_share: tuple[float, float, float] = (0.32, 0.02, 0.35)
    facet_share: tuple[float, float, float] = (0.0, 0.34, 0.08)
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

    def __post_init__(self) -> None:
        """Fill the frequencies the grade mix names and the fields do not set, then check every
        value (``validate``).

        Raises:
            ValueError: an unknown grade mix (the known ones named), or a value out of range.
        """
        if self.grade_mix not in GRADE_MIXES:
            raise ValueError(
                f"phantom.grade_mix must be one of {list(GRADE_MIXES)}, got '{self.grade_mix}'"
            )
        for key, value in GRADE_MIXES[self.grade_mix].items():
            if getattr(self, key) is None:
                object.__setattr__(self, key, value)
        self.validate()

    def shares_of(self, family: str) -> tuple[float, float, float]:
        """(study, disc, facet) shares of a family's latent variance."""
        k = FAMILY_ORDER.index(family)
        return self.study_share[k], self.disc_share[k], self.facet_share[k]

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
        for key in (*MIXED, "study_share", "disc_share", "facet_share"):
            if values.get(key) is not None:
                values[key] = tuple(float(v) for v in values[key])
        if "image_sizes" in values:
            values["image_sizes"] = tuple(int(v) for v in values["image_sizes"] or ())
        if "holdout_sites" in values:
            values["holdout_sites"] = tuple(str(v) for v in values["holdout_sites"] or ())
        if "site_weights" in values:
            values["site_weights"] = tuple(
                (str(k), float(v)) for k, v in dict(values["site_weights"]).items()
            )
        return cls(**values)

    def _validate_shares(self) -> None:
        for key in ("study_share", "disc_share", "facet_share"):
            shares = np.asarray(getattr(self, key), dtype=float)
            if shares.shape != (len(FAMILY_ORDER),) or (shares < 0).any():
                raise ValueError(
                    f"phantom.{key} needs {len(FAMILY_ORDER)} shares >= 0 (canal, foramina, "
                    f"recesses), got {getattr(self, key)}"
                )
        for family in FAMILY_ORDER:
            if sum(self.shares_of(family)) >= 1:
                raise ValueError(
                    f"phantom: the {family} shares of study, disc and facet sum to "
                    f"{sum(self.shares_of(family)):.2f}; they must leave the target its own (< 1)"
                )

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
        self._validate_shares()
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
