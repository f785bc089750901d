"""Study specifications for the phantom cohort: ids, latent severities, anatomy, site and nuisance.

A :class:`StudySpec` holds every random draw that defines one synthetic study, so that
rendering is a pure function of the spec. Each study draws from its own generator seeded by
``(seed, study_index)``: the cohort is identical whatever the worker count or order.

Grades follow ``phantom.reader``: a latent severity per disc, the canal compromise the image
shows, and the reader's noisy grade. Lookalikes that a grader must ignore are drawn
independently of the grade: a developmentally narrow canal at every level, dark (degenerated)
discs, endplate changes and a slip at L4/L5.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from disc_grade.phantom.config import PhantomConfig
from disc_grade.phantom.draws import (
    canal_narrowing,
    draw_blank_cells,
    draw_grades,
    draw_image_size,
    draw_latents,
    side_narrowing,
)
from disc_grade.phantom.sites import site_named
from disc_grade.rsna import (
    LEVELS,
    SERIES_DESCRIPTIONS,
    SPINAL,
    label_column,
)

__all__ = ["PhantomConfig", "StudySpec", "draw_cohort", "draw_study"]

# The largest id the RSNA release uses is below 2**32; several exceed 2**31.
_ID_LOW, _ID_HIGH = 10_000_000, 4_290_000_000
FORAMEN_LATERAL_RANGE_MM = (
    13.5,
    17.5,
)  # per study and side, the foramina's distance from the midline
RECESS_LATERAL_RANGE_MM = (7.5, 10.5)  # per study, the lateral recesses' distance from the midline


@dataclass(frozen=True)
class StudySpec:
    """Every draw that defines one synthetic study."""

    index: int
    study_id: int
    site: str
    series_ids: dict[str, int]  # series description -> series id
    severity: dict[str, dict[str, int]]  # condition -> level -> the reader's grade 0/1/2
    latent: dict[str, dict[str, float]]  # condition -> level -> latent severity z
    canal_narrowing: tuple[float, ...]  # per level, fraction of the AP diameter lost
    bulge_share: tuple[float, ...]  # per level, share of the narrowing from the disc (front)
    disc_signal: tuple[float, ...]  # per level, T2 brightness of the nucleus (not the grade)
    endplate_change: tuple[bool, ...]  # per level, a marrow band at the endplates (not the grade)
    slip_mm: float  # anterior slip of L5 and below (0: none)
    rows: int
    columns: int
    pixel_spacing: float  # mm
    slice_spacing: float  # mm between sagittal slices
    tilt_deg: float
    curvature: float  # lordosis, 1/mm
    spine_offset_mm: tuple[float, float]  # (anterior-posterior, cranio-caudal) shift
    canal_ap_mm: float  # the canal's AP diameter away from the discs
    fat_suppressed: bool
    contrast_gamma: float
    intensity_scale: float
    noise_sigma: float
    bias_coeffs: tuple[float, ...]
    blur_mm: float
    ghost: float
    # quirks
    missing_sagittal_t2: bool = False
    missing_sagittal_t1: bool = False
    second_sagittal_t1_series_id: int | None = None  # a repeated sagittal T1 series
    reversed_instances: bool = False
    rle_compressed: bool = False
    missing_slice_thickness: bool = False
    blank_cells: tuple[str, ...] = field(default_factory=tuple)  # "<condition>_<level>"
    # the other condition families: per side ("left"/"right"), per level, the width lost
    foraminal_narrowing: dict[str, tuple[float, ...]] = field(default_factory=dict)
    recess_narrowing: dict[str, tuple[float, ...]] = field(default_factory=dict)
    # axial series layout: the first level held by a second axial series (None: one series),
    # and whether a slice lies between each pair of stacks
    second_axial_from: int | None = None
    second_axial_series_id: int | None = None
    between_slices: bool = False
    # where the foramina (left, right) and the lateral recesses lie from the midline: anatomy
    # varies, so a fixed offset from the canal cannot find them exactly
    foramen_lateral_mm: tuple[float, float] = (15.0, 15.0)
    recess_lateral_mm: float = 9.0


def _site(config: PhantomConfig, rng: np.random.Generator) -> str:
    names = [n for n, _ in config.site_weights]
    weights = np.asarray([w for _, w in config.site_weights], dtype=float)
    return names[int(rng.choice(len(names), p=weights / weights.sum()))]


def _anatomy(config: PhantomConfig, rng: np.random.Generator, site, narrow: bool) -> dict:
    """The study's anatomy and lookalikes (the generator's draws in this order)."""
    return {
        "bulge_share": tuple(float(rng.uniform(0.35, 0.8)) for _ in LEVELS),
        "endplate_change": tuple(bool(rng.random() < config.endplate_change_rate) for _ in LEVELS),
        "slip_mm": float(rng.uniform(3.0, 8.0)) if rng.random() < config.slip_rate else 0.0,
        "slice_spacing": float(rng.uniform(*site.slice_spacing_mm)),
        "tilt_deg": float(rng.uniform(-12.0, 12.0)),
        "curvature": float(rng.uniform(0.0002, 0.001)),
        "spine_offset_mm": (float(rng.uniform(-12, 12)), float(rng.uniform(-15, 15))),
        "canal_ap_mm": float(rng.uniform(9.5, 11.5) if narrow else rng.uniform(13.0, 17.0)),
    }


def _appearance(rng: np.random.Generator, site) -> dict:
    """How the study's scanner site renders it (the generator's draws in this order)."""
    return {
        "fat_suppressed": site.fat_suppressed,
        "contrast_gamma": float(rng.uniform(*site.gamma)),
        "intensity_scale": float(rng.uniform(*site.intensity)),
        "noise_sigma": float(rng.uniform(*site.noise)),
        "bias_coeffs": tuple(float(c) for c in rng.uniform(-site.bias, site.bias, size=5)),
        "blur_mm": float(rng.uniform(*site.blur_mm)),
        "ghost": site.ghost,
    }


def draw_study(config: PhantomConfig, index: int) -> StudySpec:
    """Draw the spec of study ``index``; a pure function of ``(config.seed, index)``."""
    rng = np.random.default_rng([config.seed, index])
    study_id = int(rng.integers(_ID_LOW, _ID_HIGH))
    if index == 0:  # always have one id above 2**31, as the real data does
        study_id = int(rng.integers(2**31 + 1, _ID_HIGH))
    series_ids = {d: int(rng.integers(_ID_LOW, _ID_HIGH)) for d in SERIES_DESCRIPTIONS}
    site = site_named(_site(config, rng))
    study_latent = float(rng.standard_normal())
    latent = draw_latents(config, rng, study_latent)
    severity = draw_grades(config, latent, rng)
    narrowing = canal_narrowing(config, latent)
    # older spines have darker discs: correlated with the study's degeneration, not the grade
    disc_signal = tuple(
        float(np.clip(0.7 - 0.12 * study_latent + rng.normal(0, 0.15), 0.15, 0.95)) for _ in LEVELS
    )
    size = config.image_size * site.resolution
    size *= rng.uniform(1 - config.image_size_jitter, 1 + config.image_size_jitter)
    size = max(int(round(size / 16) * 16), 64)
    fov = float(rng.uniform(220.0, 300.0))  # mm across the image
    narrow = rng.random() < config.narrow_canal_rate
    quirk = rng.random(5) < config.quirk_rate
    blank: tuple[str, ...] = ()
    if index == 2:  # the canal's blank cell: planted once (real: 5 in 1,975 studies)
        blank = (label_column(SPINAL, LEVELS[int(rng.integers(len(LEVELS)))]),)
    # draws added after the canal's come from their own stream, so the canal's stay as they were
    extra = np.random.default_rng([config.seed, index, 7])
    second_axial = bool(index == 6 or extra.random() < config.second_axial_rate)
    spec = StudySpec(
        foraminal_narrowing=side_narrowing(config, latent, "foraminal"),
        recess_narrowing=side_narrowing(config, latent, "subarticular"),
        second_axial_from=int(extra.integers(2, 4)) if second_axial else None,
        second_axial_series_id=int(extra.integers(_ID_LOW, _ID_HIGH)) if second_axial else None,
        between_slices=bool(extra.random() < config.between_slice_rate),
        foramen_lateral_mm=(
            float(extra.uniform(*FORAMEN_LATERAL_RANGE_MM)),
            float(extra.uniform(*FORAMEN_LATERAL_RANGE_MM)),
        ),
        recess_lateral_mm=float(extra.uniform(*RECESS_LATERAL_RANGE_MM)),
        index=index,
        study_id=study_id,
        site=site.name,
        series_ids=series_ids,
        severity=severity,
        latent=latent,
        canal_narrowing=narrowing,
        disc_signal=disc_signal,
        rows=size,
        columns=size,
        pixel_spacing=fov / size,
        **_anatomy(config, rng, site, narrow),  # the generator's draws in this order
        **_appearance(rng, site),
        # the first studies carry one quirk each so that even a tiny cohort has all of them;
        # the real data's one-in-a-thousand cases are planted once
        missing_sagittal_t2=index == 5,
        reversed_instances=bool(index == 1 or quirk[1]),
        rle_compressed=bool(index == 3 or quirk[2]),
        missing_slice_thickness=bool(index == 4 or quirk[3]),
        missing_sagittal_t1=index == 8,
    )
    blank += draw_blank_cells(config, extra)
    repeat_t1 = int(extra.integers(_ID_LOW, _ID_HIGH))
    rows, columns = draw_image_size(config, extra, size)
    return replace(
        spec,
        blank_cells=blank,
        second_sagittal_t1_series_id=repeat_t1 if index == 7 else None,
        rows=rows,
        columns=columns,
        pixel_spacing=fov / rows,
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
        unique.append(spec if sid == spec.study_id else replace(spec, study_id=sid))
    return unique
