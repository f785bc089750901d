"""Axial T2 slices through the discs: disc, canal narrowed by the label, posterior arch."""

from __future__ import annotations

import numpy as np

from disc_grade.phantom.anatomy import StudySpec
from disc_grade.phantom.render import soft_inside, tissue_signal
from disc_grade.phantom.scanner import apply_scanner


def render_axial(
    spec: StudySpec, level_index: int, size: int, spacing: float, rng: np.random.Generator
) -> np.ndarray:
    """One axial T2 slice through a disc: disc, canal narrowed by the label, posterior arch."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) * spacing
    half = (size - 1) * spacing / 2
    x, y = xx - half, yy - half  # x: patient left, y: posterior; canal centre at the origin
    ap = spec.canal_ap_mm * (1 - spec.canal_narrowing[level_index])
    body = soft_inside(np.hypot(x / 60.0, (y + 20.0) / 55.0) * 55.0 - 55.0)
    fat = soft_inside(np.hypot(x / 66.0, (y + 20.0) / 62.0) * 62.0 - 62.0) - body
    disc = soft_inside(np.hypot(x / 24.0, (y + 18.0) / 16.0) * 16.0 - 16.0)
    canal = soft_inside(np.hypot(x / 10.0, y / (ap / 2 + 0.5)) * 10.0 - 10.0)
    arch = soft_inside(np.abs(np.hypot(x, y - 4.0) - 16.0) - 2.5) * (y > 4.0)
    sig = tissue_signal(spec, "T2")
    img = body * sig["soft"] + np.clip(fat, 0, 1) * sig["fat"]
    img = img * (1 - arch) + arch * sig["post_bone"]
    img = img * (1 - disc) + disc * sig["annulus"]
    img = img * (1 - canal) + canal * sig["csf"]
    return apply_scanner(spec, img, rng, spacing)
