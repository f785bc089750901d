"""What a scanner does to the relative tissue signal: blur, gamma, ghost, bias field, noise, scaling."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

from disc_grade.phantom.anatomy import StudySpec


def apply_scanner(
    spec: StudySpec, relative: np.ndarray, rng: np.random.Generator, spacing: float
) -> np.ndarray:
    """Blur, gamma, bias field, Rician noise and scaling to stored 12-bit values."""
    ps = spacing
    img = relative.astype(np.float32)
    if spec.blur_mm > 0:
        img = gaussian_filter(img, sigma=spec.blur_mm / ps)
    img = np.clip(img, 0, None) ** spec.contrast_gamma
    if spec.ghost > 0:  # a faint copy shifted along the phase-encoding direction (columns)
        img = img + spec.ghost * np.roll(img, img.shape[1] // 3, axis=1)
    h, w = img.shape
    yy, xx = np.mgrid[-1 : 1 : h * 1j, -1 : 1 : w * 1j]
    a, b, c, d, e = spec.bias_coeffs
    img = img * np.exp(a * xx + b * yy + c * xx * yy + d * xx**2 + e * yy**2)
    n1 = rng.standard_normal(img.shape) * spec.noise_sigma
    n2 = rng.standard_normal(img.shape) * spec.noise_sigma
    img = np.sqrt((img + n1) ** 2 + n2**2)
    return np.clip(img * spec.intensity_scale, 0, 4095).astype(np.uint16)
