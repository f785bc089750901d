"""An atlas of the phantom: one mid-sagittal crop per site and per grade, for the docs and reviewers.

Each cell takes the first study of a site and sets the canal compromise at one disc to the
middle of a grade's band on the latent scale, so a row shows what a grade looks like at that
site and a column what the sites do to one grade.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from disc_grade.phantom.anatomy import PhantomConfig, draw_study
from disc_grade.phantom.reader import ReaderModel, compromise, family_centre
from disc_grade.phantom.render import canal_point, render_sagittal_series
from disc_grade.phantom.sites import SITES
from disc_grade.plotting import plt
from disc_grade.rsna import LEVEL_NAMES, LEVELS, SEVERITIES

CROP_MM = 70.0  # side of the crop around the disc


def typical_latents(model: ReaderModel) -> tuple[float, float, float]:
    """A latent in the middle of each grade's band: below, between and above the thresholds."""
    t1, t2 = model.thresholds
    return t1 - 1.0, (t1 + t2) / 2, t2 + 0.5


def canal_compromise(config: PhantomConfig, latent: float) -> float:
    """The canal's visible compromise at ``latent`` under the config's grade mix."""
    return float(compromise(latent, family_centre(config.severity_prior, config.reader_noise)))


def example_spec(config: PhantomConfig, site: str, latent: float, level: str):
    """The first study of ``site`` with the canal compromise of ``latent`` at ``level``."""
    for index in range(10_000):
        spec = draw_study(config, index)
        if spec.site == site:
            k = LEVELS.index(level)
            narrowing = list(spec.canal_narrowing)
            narrowing[k] = canal_compromise(config, latent)
            return replace(spec, canal_narrowing=tuple(narrowing), slip_mm=0.0)
    raise ValueError(f"no study of site {site} among the first 10,000")


def _crop(image: np.ndarray, x_px: float, y_px: float, half: int) -> np.ndarray:
    padded = np.pad(image, half, mode="constant")
    r, c = int(round(y_px)) + half, int(round(x_px)) + half
    return padded[r - half : r + half, c - half : c + half]


def atlas_figure(config: PhantomConfig, level: str = "l4_l5"):
    """Rows: sites A..E; columns: Normal/Mild, Moderate, Severe; the mid slice around ``level``."""
    model = ReaderModel.from_prior(config.severity_prior, config.reader_noise)
    latents = typical_latents(model)
    fig, axes = plt.subplots(len(SITES), 3, figsize=(6.6, 2.3 * len(SITES)), squeeze=False)
    for row, (name, site) in enumerate(SITES.items()):
        for col, latent in enumerate(latents):
            spec = example_spec(config, name, latent, level)
            n = 5
            mid = render_sagittal_series(spec, n, "T2", np.random.default_rng(row))[n // 2]
            x_mm, y_mm = canal_point(spec, LEVELS.index(level))
            half = int(CROP_MM / 2 / spec.pixel_spacing)
            crop = _crop(
                mid.astype(np.float32), x_mm / spec.pixel_spacing, y_mm / spec.pixel_spacing, half
            )
            ax = axes[row, col]
            ax.imshow(crop, cmap="gray")
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(
                    f"{SEVERITIES[col]}\ncompromise {canal_compromise(config, latent):.2f}",
                    fontsize=9,
                )
            if col == 0:
                kind = "STIR" if site.fat_suppressed else "T2"
                ax.set_ylabel(f"site {name} ({kind})", fontsize=9)
    fig.suptitle(f"Phantom at {LEVEL_NAMES[level]}: sites (rows) and grades (columns)", fontsize=10)
    fig.tight_layout()
    return fig
