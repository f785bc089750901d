"""Study specifications for the phantom cohort: ids, severities, anatomy and nuisance.

A :class:`StudySpec` holds every random draw that defines one synthetic study, so that
rendering is a pure function of the spec. Each study draws from its own generator seeded by
``(seed, study_index)``: the cohort is identical whatever the worker count or order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from disc_grade.rsna import CONDITIONS, LEVELS, SERIES_DESCRIPTIONS, SPINAL, label_column

# The largest id the RSNA release uses is below 2**32; several exceed 2**31.
_ID_LOW, _ID_HIGH = 10_000_000, 4_290_000_000


@dataclass(frozen=True)
class PhantomConfig:
    """Parameters of the phantom cohort (``conf/base/parameters_phantom.yml``)."""

    n_studies: int = 120
    seed: int = 2024
    image_size: int = 192
    image_size_jitter: float = 0.25
    n_sagittal_slices: int = 11
    n_axial_per_level: int = 2
    severity_prior: tuple[float, float, float] = (0.878, 0.075, 0.048)
    level_severity_weight: tuple[float, ...] = (0.4, 0.7, 1.0, 1.6, 1.1)
    study_correlation: float = 0.6
    quirk_rate: float = 0.08

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
        for key in ("severity_prior", "level_severity_weight"):
            if key in values:
                values[key] = tuple(float(v) for v in values[key])
        config = cls(**values)
        config.validate()
        return config

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first parameter out of range."""
        if self.n_studies < 1:
            raise ValueError(f"phantom.n_studies must be >= 1, got {self.n_studies}")
        if not 64 <= self.image_size <= 1024:
            raise ValueError(f"phantom.image_size must be in [64, 1024], got {self.image_size}")
        if self.n_sagittal_slices < 5:
            raise ValueError(
                f"phantom.n_sagittal_slices must be >= 5, got {self.n_sagittal_slices}"
            )
        prior = np.asarray(self.severity_prior)
        if prior.shape != (3,) or (prior < 0).any() or prior.sum() <= 0:
            raise ValueError(
                f"phantom.severity_prior must be 3 non-negative numbers, got {self.severity_prior}"
            )
        if len(self.level_severity_weight) != len(LEVELS):
            raise ValueError(
                f"phantom.level_severity_weight needs {len(LEVELS)} values, got {self.level_severity_weight}"
            )
        if not 0 <= self.study_correlation < 1:
            raise ValueError(
                f"phantom.study_correlation must be in [0, 1), got {self.study_correlation}"
            )
        if not 0 <= self.quirk_rate <= 1:
            raise ValueError(f"phantom.quirk_rate must be in [0, 1], got {self.quirk_rate}")


@dataclass(frozen=True)
class StudySpec:
    """Every draw that defines one synthetic study."""

    index: int
    study_id: int
    series_ids: dict[str, int]  # series description -> series id
    severity: dict[str, dict[str, int]]  # condition -> level -> 0/1/2
    canal_narrowing: tuple[float, ...]  # per level, fraction of the AP diameter lost
    disc_signal: tuple[float, ...]  # per level, T2 brightness of the nucleus (unrelated to label)
    rows: int
    columns: int
    pixel_spacing: float  # mm
    slice_spacing: float  # mm between sagittal slices
    tilt_deg: float
    curvature: float  # lordosis, 1/mm
    spine_offset_mm: tuple[float, float]  # (anterior-posterior, cranio-caudal) shift
    canal_ap_mm: float
    contrast_gamma: float
    intensity_scale: float
    noise_sigma: float
    bias_coeffs: tuple[float, ...]
    blur_mm: float
    # quirks
    missing_sagittal_t2: bool = False
    reversed_instances: bool = False
    rle_compressed: bool = False
    missing_slice_thickness: bool = False
    blank_cells: tuple[str, ...] = field(default_factory=tuple)  # "<condition>_<level>"


def _narrowing_for(severity: int, rng: np.random.Generator) -> float:
    """Fraction of the canal's AP diameter lost at a disc of this severity."""
    low, high = ((0.0, 0.22), (0.45, 0.62), (0.78, 0.92))[severity]
    return float(rng.uniform(low, high))


def draw_severities(config: PhantomConfig, rng: np.random.Generator) -> dict[str, dict[str, int]]:
    """Draw per-condition, per-level severities, correlated within the study.

    A study-level latent degeneration shifts every level; level weights make L4/L5 the most
    often Severe, as in the RSNA data. Marginals stay close to ``severity_prior``.
    """
    prior = np.asarray(config.severity_prior, dtype=float)
    prior = prior / prior.sum()
    weights = np.asarray(config.level_severity_weight, dtype=float)
    weights = weights / weights.mean()
    # thresholds on a standard-normal latent reproducing the prior
    from statistics import NormalDist

    nd = NormalDist()
    t1 = nd.inv_cdf(min(max(prior[0], 1e-6), 1 - 1e-6))
    t2 = nd.inv_cdf(min(max(prior[0] + prior[1], 1e-6), 1 - 1e-6))
    rho = config.study_correlation
    study_latent = rng.standard_normal()
    out: dict[str, dict[str, int]] = {}
    for condition in CONDITIONS:
        out[condition] = {}
        for level, w in zip(LEVELS, weights, strict=True):
            z = np.sqrt(rho) * study_latent + np.sqrt(1 - rho) * rng.standard_normal()
            # level weight shifts the latent: heavier levels cross the thresholds more often
            z = z + 0.45 * np.log(w)
            out[condition][level] = 0 if z < t1 else (1 if z < t2 else 2)
    return out


def draw_study(config: PhantomConfig, index: int) -> StudySpec:
    """Draw the spec of study ``index``; a pure function of ``(config.seed, index)``."""
    rng = np.random.default_rng([config.seed, index])
    study_id = int(rng.integers(_ID_LOW, _ID_HIGH))
    if index == 0:  # always have one id above 2**31, as the real data does
        study_id = int(rng.integers(2**31 + 1, _ID_HIGH))
    series_ids = {d: int(rng.integers(_ID_LOW, _ID_HIGH)) for d in SERIES_DESCRIPTIONS}
    severity = draw_severities(config, rng)
    spinal = severity[SPINAL]
    narrowing = tuple(_narrowing_for(spinal[level], rng) for level in LEVELS)
    disc_signal = tuple(float(rng.uniform(0.35, 0.95)) for _ in LEVELS)
    jitter = config.image_size_jitter
    size = int(round(config.image_size * rng.uniform(1 - jitter, 1 + jitter) / 16) * 16)
    size = max(size, 64)
    fov = float(rng.uniform(220.0, 300.0))  # mm across the image
    quirk = rng.random(5) < config.quirk_rate
    blank: tuple[str, ...] = ()
    if quirk[4] or index == 2:
        blank = (label_column(SPINAL, LEVELS[int(rng.integers(len(LEVELS)))]),)
    return StudySpec(
        index=index,
        study_id=study_id,
        series_ids=series_ids,
        severity=severity,
        canal_narrowing=narrowing,
        disc_signal=disc_signal,
        rows=size,
        columns=size,
        pixel_spacing=fov / size,
        slice_spacing=float(rng.uniform(3.0, 4.0)),
        tilt_deg=float(rng.uniform(-12.0, 12.0)),
        curvature=float(rng.uniform(0.0002, 0.001)),
        spine_offset_mm=(float(rng.uniform(-12, 12)), float(rng.uniform(-15, 15))),
        canal_ap_mm=float(rng.uniform(13.0, 17.0)),
        contrast_gamma=float(rng.uniform(0.7, 1.4)),
        intensity_scale=float(rng.uniform(600.0, 3000.0)),
        noise_sigma=float(rng.uniform(0.01, 0.06)),
        bias_coeffs=tuple(float(c) for c in rng.uniform(-0.25, 0.25, size=5)),
        blur_mm=float(rng.uniform(0.0, 1.5)),
        # the first studies carry one quirk each so that even a tiny cohort has all of them
        missing_sagittal_t2=bool(index == 5 or (quirk[0] and index > 5)),
        reversed_instances=bool(index == 1 or quirk[1]),
        rle_compressed=bool(index == 3 or quirk[2]),
        missing_slice_thickness=bool(index == 4 or quirk[3]),
        blank_cells=blank,
    )


def draw_cohort(config: PhantomConfig) -> list[StudySpec]:
    """Draw every study's spec; study ids are made unique deterministically."""
    specs = [draw_study(config, i) for i in range(config.n_studies)]
    seen: set[int] = set()
    unique = []
    for spec in specs:
        sid = spec.study_id
        while sid in seen:
            sid += 1
        seen.add(sid)
        unique.append(spec if sid == spec.study_id else _replace(spec, study_id=sid))
    return unique


def _replace(spec: StudySpec, **changes) -> StudySpec:
    from dataclasses import replace

    return replace(spec, **changes)
