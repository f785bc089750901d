"""Does an augmentation change the grade's visible evidence? An audit against canal width.

Spinal canal stenosis is read from how much of the canal's antero-posterior (AP) diameter is
lost at the disc, relative to the canal away from it. A view that changes that fraction changes
the answer, and contrastive pretraining then learns to ignore exactly what grading needs.

The audit draws a sagittal canal (a bright CSF column, AP horizontal) with a known compromise at
the disc, at the ROI's physical scale, applies one augmentation at a time the way training does
(random draws in its range), and measures the compromise a reader would see: one minus the
narrowest column width near the disc over the median width away from it, widths read at half
the CSF brightness. The shift of that figure, over draws and compromises, is the augmentation's
distortion; the bound is a fraction of the canal's AP diameter.
"""

from __future__ import annotations

from dataclasses import fields

import torch

from disc_grade.models.components.augment import AugmentConfig, augmented

COMPROMISES = (0.1, 0.3, 0.5, 0.7, 0.85)  # across Normal/Mild, Moderate and Severe
CANAL_MM = 14.0  # a typical lumbar canal's AP diameter away from the disc
DISC_HALF_MM = 5.0  # half the cranio-caudal extent of the narrowing at the disc
SUPERSAMPLE = 8


def canal_images(compromise: torch.Tensor, size_px: int, mm_per_px: float) -> torch.Tensor:
    """[B, 1, size, size] sagittal canals (CSF 1, else 0.15) with ``compromise`` lost at the disc.

    The narrowing is a smooth (cosine) indentation from the anterior wall, centred; edges are
    partial-volume averaged by supersampling, as a scanner's pixels would be.
    """
    n = size_px * SUPERSAMPLE
    coords = (torch.arange(n, dtype=torch.float64) + 0.5) / SUPERSAMPLE - size_px / 2  # px
    y, x = coords.view(n, 1) * mm_per_px, coords.view(1, n) * mm_per_px  # mm, centre 0
    half = CANAL_MM / 2
    bump = torch.where(
        y.abs() < DISC_HALF_MM, 0.5 * (1 + torch.cos(torch.pi * y / DISC_HALF_MM)), 0.0
    )  # [n, 1]
    images = []
    for c in compromise.tolist():
        anterior = -half + c * CANAL_MM * bump  # the disc pushes the anterior wall back
        inside = (x > anterior) & (x < half)
        image = torch.where(inside, 1.0, 0.15)
        image = image.view(size_px, SUPERSAMPLE, size_px, SUPERSAMPLE).mean(dim=(1, 3))
        images.append(image)
    return torch.stack(images).unsqueeze(1).float()


def visible_compromise(images: torch.Tensor, mm_per_px: float) -> torch.Tensor:
    """[B] the compromise a reader sees: 1 - narrowest width near the centre / width away.

    Widths are read at half-way between each image's own background and CSF brightness (both
    taken from the rows away from the disc), so a change of brightness or contrast alone moves
    nothing; a pixel counts by how far it is towards that level (partial volume).
    """
    size = images.shape[-1]
    rows = torch.arange(size, dtype=torch.float32) + 0.5 - size / 2  # px from the centre
    near = rows.abs() * mm_per_px <= DISC_HALF_MM * 1.5
    away = (rows.abs() * mm_per_px >= DISC_HALF_MM * 2) & (rows.abs() < size * 0.4)
    reference_rows = images[:, 0, away, :].flatten(1)
    background = reference_rows.median(dim=1).values.view(-1, 1, 1)  # most of a row is tissue
    csf = torch.quantile(reference_rows, 0.95, dim=1).view(-1, 1, 1)
    level = (background + csf) / 2
    fill = ((images[:, 0] - background) / (level - background).clamp_min(1e-6)).clamp(0, 1)
    widths = fill.sum(dim=-1)  # [B, H] px
    narrowest = widths[:, near].min(dim=1).values
    reference = widths[:, away].median(dim=1).values.clamp_min(1e-6)
    return 1 - narrowest / reference


def audit_augmentations(
    cfg: AugmentConfig,
    size_px: int,
    extent_mm: float,
    draws: int = 32,
    seed: int = 0,
    quantile: float = 0.9,
) -> dict[str, float]:
    """Per enabled augmentation (alone, at its configured range), the ``quantile`` of how far it
    moves the visible compromise, over ``draws`` random draws at each of ``COMPROMISES``."""
    mm_per_px = extent_mm / size_px
    clean = canal_images(torch.tensor(COMPROMISES), size_px, mm_per_px).repeat_interleave(draws, 0)
    before = visible_compromise(clean, mm_per_px)
    out = {}
    for f in fields(AugmentConfig):
        value = getattr(cfg, f.name)
        if not value:
            continue
        generator = torch.Generator().manual_seed(seed)
        after = visible_compromise(
            augmented(clean, AugmentConfig(**{f.name: value}), generator)[0], mm_per_px
        )
        out[f.name] = float(torch.quantile((after - before).abs(), quantile))
    return out


def violations(distortion: dict[str, float], bound: float) -> dict[str, float]:
    """The augmentations whose distortion exceeds ``bound`` (fraction of the AP diameter)."""
    return {name: d for name, d in distortion.items() if d > bound}
