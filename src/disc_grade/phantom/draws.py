"""The random draws a phantom study's grades and layout rest on, apart from its anatomy.

Per condition and level the latent severity and the reader's grade; per side the width a
foramen or recess loses; the cells a study leaves blank; the size of its sagittal images.
"""

from __future__ import annotations

import numpy as np

from disc_grade.phantom.config import PhantomConfig
from disc_grade.phantom.reader import ReaderModel, compromise, family_centre, level_shift
from disc_grade.rsna import CONDITIONS, LEVELS, SPINAL, condition_family, label_column

SUBARTICULAR_BOTH_SIDES = 0.7  # a study's blank subarticular level is blank on both sides


def draw_latents(
    config: PhantomConfig, rng: np.random.Generator, study_latent: float
) -> dict[str, dict[str, float]]:
    """Per condition and level, the latent severity from shared causes: the study's own
    (``study_latent``), each level's disc bulge and ligamentum flavum (the canal and both
    recesses) and each level's facets (both foramina, the recesses a little), weighed by the
    family's shares (``PhantomConfig.shares_of``), plus the target's own draw. The canal's
    latents are shifted per level (``spinal_level_normal``), the foramina's and recesses' not."""
    disc, facet = rng.standard_normal(len(LEVELS)), rng.standard_normal(len(LEVELS))
    canal_shifts = [
        level_shift(config.severity_prior, config.reader_noise, share)
        for share in config.spinal_level_normal
    ]
    out: dict[str, dict[str, float]] = {}
    for condition in CONDITIONS:
        study, bulge, facets = config.shares_of(condition_family(condition))
        own = np.sqrt(1 - study - bulge - facets)
        shifts = canal_shifts if condition == SPINAL else [0.0] * len(LEVELS)
        out[condition] = {
            level: float(
                np.sqrt(study) * study_latent
                + np.sqrt(bulge) * disc[k]
                + np.sqrt(facets) * facet[k]
                + own * rng.standard_normal()
                + shifts[k]
            )
            for k, level in enumerate(LEVELS)
        }
    return out


def draw_blank_cells(config: PhantomConfig, rng: np.random.Generator) -> tuple[str, ...]:
    """The label cells a study leaves blank, as the real readers did.

    Subarticular cells go blank level by level from L1/L2 down (1-3 levels, usually both
    sides: the axial stacks did not reach them); one or two foraminal cells now and then.
    """
    blank: list[str] = []
    if rng.random() < config.subarticular_blank_rate:
        n_levels = int(rng.integers(1, 4))
        both = rng.random() < SUBARTICULAR_BOTH_SIDES
        sides = ("left", "right") if both else (("left", "right")[int(rng.integers(2))],)
        blank += [
            label_column(f"{side}_subarticular_stenosis", level)
            for level in LEVELS[:n_levels]
            for side in sides
        ]
    if rng.random() < config.foraminal_blank_rate:
        side = ("left", "right")[int(rng.integers(2))]
        first = int(rng.integers(len(LEVELS) - 1))
        levels = LEVELS[first : first + int(rng.integers(1, 3))]
        blank += [label_column(f"{side}_neural_foraminal_narrowing", level) for level in levels]
    return tuple(blank)


def draw_grades(
    config: PhantomConfig, latent: dict[str, dict[str, float]], rng: np.random.Generator
) -> dict[str, dict[str, int]]:
    """The reader's grade of every latent (``phantom.reader``), with its family's frequencies."""
    readers = {
        condition: ReaderModel.from_prior(
            config.prior_of(condition_family(condition)), config.reader_noise
        )
        for condition in latent
    }
    return {
        condition: {
            level: int(readers[condition].grade(z, rng.standard_normal()))
            for level, z in by_level.items()
        }
        for condition, by_level in latent.items()
    }


def canal_narrowing(
    config: PhantomConfig, latent: dict[str, dict[str, float]]
) -> tuple[float, ...]:
    """Per level, the share of the canal's width lost, from its latent."""
    centre = family_centre(config.severity_prior, config.reader_noise)
    return tuple(float(compromise(latent[SPINAL][level], centre)) for level in LEVELS)


def side_narrowing(
    config: PhantomConfig, latent: dict[str, dict[str, float]], family: str
) -> dict[str, tuple[float, ...]]:
    """Per side and level, the width a foramen or recess loses, from its latent."""
    centre = family_centre(config.prior_of(family), config.reader_noise)
    suffix = "neural_foraminal_narrowing" if family == "foraminal" else "subarticular_stenosis"
    return {
        side: tuple(
            float(compromise(latent[f"{side}_{suffix}"][level], centre)) for level in LEVELS
        )
        for side in ("left", "right")
    }


def draw_image_size(config: PhantomConfig, rng: np.random.Generator, size: int) -> tuple[int, int]:
    """(rows, columns) of the sagittal images: ``size`` (the site's, jittered) unless
    ``image_sizes`` lists the sizes to draw from; some studies narrower than tall."""
    sizes = config.image_sizes
    rows = int(sizes[int(rng.integers(len(sizes)))]) if sizes else size
    columns = rows
    if rng.random() < config.non_square_rate:
        columns = max(64, int(round(rows * rng.uniform(0.75, 0.9) / 16) * 16))
    return rows, columns
