"""The spine's frame in a sagittal image: where the discs and bodies sit, image <-> spine coordinates.

The spine lives in a local frame ``(u, v)``: ``u`` is the distance behind the posterior margin
of the vertebral bodies, ``v`` runs down the spine. Tilt rotates the frame, lordosis bends it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from disc_grade.phantom.anatomy import StudySpec
from disc_grade.rsna import LEVELS

BODY_HEIGHT_MM = 26.0
DISC_HEIGHT_MM = 9.5


@dataclass(frozen=True)
class SpineLayout:
    """Cranio-caudal positions (mm along ``v``) of discs and bodies for one study."""

    disc_centres: np.ndarray  # [5], L1/L2 .. L5/S1
    body_centres: np.ndarray  # [7], T12 .. L5, then the sacrum's top
    body_height: float
    disc_height: float


def spine_layout(spec: StudySpec) -> SpineLayout:
    """Place the discs so the L1/L2..L5/S1 span is centred on ``v = 0``."""
    step = BODY_HEIGHT_MM + DISC_HEIGHT_MM
    discs = np.arange(len(LEVELS), dtype=float) * step
    discs -= discs.mean()
    body_centres = np.array(
        [discs[0] - step / 2 - step]  # T12
        + [discs[0] - step / 2]  # L1
        + [d + step / 2 for d in discs[:-1]]  # L2..L5
        + [discs[-1] + step / 2 + 20.0]  # sacrum (taller)
    )
    return SpineLayout(discs, body_centres, BODY_HEIGHT_MM, DISC_HEIGHT_MM)


def image_to_local(spec: StudySpec, x_mm: np.ndarray, y_mm: np.ndarray):
    """Map image millimetres to the spine frame ``(u, v)``."""
    half_w = (spec.columns - 1) * spec.pixel_spacing / 2
    half_h = (spec.rows - 1) * spec.pixel_spacing / 2
    theta = np.deg2rad(spec.tilt_deg)
    dx, dy = x_mm - half_w, y_mm - half_h
    xr = np.cos(theta) * dx + np.sin(theta) * dy
    yr = -np.sin(theta) * dx + np.cos(theta) * dy
    v = yr - spec.spine_offset_mm[1]
    u = xr - spec.spine_offset_mm[0] - spec.curvature * v**2 - _posterior_margin_shift(spec)
    return u + slip_shift(spec, v), v


def local_to_image(spec: StudySpec, u: np.ndarray, v: np.ndarray):
    """Inverse of :func:`image_to_local`: spine frame to image millimetres."""
    u = u - slip_shift(spec, v)
    xr = u + spec.spine_offset_mm[0] + spec.curvature * v**2 + _posterior_margin_shift(spec)
    yr = v + spec.spine_offset_mm[1]
    theta = np.deg2rad(spec.tilt_deg)
    dx = np.cos(theta) * xr - np.sin(theta) * yr
    dy = np.sin(theta) * xr + np.cos(theta) * yr
    half_w = (spec.columns - 1) * spec.pixel_spacing / 2
    half_h = (spec.rows - 1) * spec.pixel_spacing / 2
    return dx + half_w, dy + half_h


def slip_shift(spec: StudySpec, v: np.ndarray) -> np.ndarray:
    """How far (mm) the spine above L4/L5 sits anterior of the spine below it (a slip)."""
    if not spec.slip_mm:
        return np.zeros_like(np.asarray(v, dtype=float))
    slip_level = spine_layout(spec).disc_centres[LEVELS.index("l4_l5")]
    return spec.slip_mm / (1 + np.exp((np.asarray(v, dtype=float) - slip_level) / 3.0))


def _posterior_margin_shift(spec: StudySpec) -> float:
    """The vertebral bodies sit a little anterior of the image centre, the canal near it."""
    return -0.25 * spec.canal_ap_mm
