"""Axial T2 slices: disc (or vertebral body between discs), canal, lateral recesses, posterior arch.

Geometry of the image frame (mm): ``x`` runs to the patient's left, ``y`` posterior; the canal's
centre is the origin. The lateral recesses lie the study's ``recess_lateral_mm`` either side, just
in front of the canal's centre, each holding a traversing root in CSF. Narrowing (``recess_narrowing``)
is facet and ligamentum flavum overgrowth advancing from behind and outside: the recess's
bright CSF is replaced by dark tissue and the root is pinched. Like the canal, a slice away
from the disc shows less of it.
"""

from __future__ import annotations

import numpy as np

from disc_grade.phantom.anatomy import StudySpec
from disc_grade.phantom.render import soft_inside, tissue_signal
from disc_grade.phantom.scanner import apply_scanner
from disc_grade.phantom.spine import DISC_HEIGHT_MM
from disc_grade.phantom.tables import SUBARTICULAR_ANTERIOR_MM

RECESS_HALF_MM = (3.2, 2.6)  # half-width (left-right) and half-depth of a lateral recess
TRAVERSING_ROOT_MM = 1.1  # radius of the traversing root in the recess
FACET_REACH_MM = 6.5  # how far the facet and flavum advance into a fully narrowed recess


def disc_share(offset_mm: float) -> float:
    """How much of a disc's narrowing a slice ``offset_mm`` from its centre shows (canal profile)."""
    sigma = 0.75 * DISC_HEIGHT_MM
    return float(np.exp(-0.5 * (offset_mm / sigma) ** 2))


def recess_masks(
    x: np.ndarray, y: np.ndarray, narrowing: float, sign: float, lateral_mm: float = 9.0
) -> tuple[np.ndarray, np.ndarray]:
    """(CSF of the recess, its root) on one side (``sign`` +1 left, -1 right), ``lateral_mm``
    from the midline, narrowed."""
    cx, cy = sign * lateral_mm, -SUBARTICULAR_ANTERIOR_MM
    hx, hy = RECESS_HALF_MM
    recess = soft_inside((np.hypot((x - cx) / hx, (y - cy) / hy) - 1.0) * min(hx, hy))
    # the facet advances from behind and outside the recess towards its centre
    reach = FACET_REACH_MM * narrowing
    fx, fy = cx + sign * 4.2, cy + 4.2
    facet = soft_inside(np.hypot(x - fx, y - fy) - (2.0 + reach))
    root_x = cx - sign * 0.4 * narrowing * hx  # pushed towards the midline as it narrows
    root = soft_inside(np.hypot(x - root_x, y - cy) - TRAVERSING_ROOT_MM)
    return recess * (1 - facet), root * recess


def render_axial(
    spec: StudySpec,
    level_index: int,
    size: int,
    spacing: float,
    rng: np.random.Generator,
    offset_mm: float = 0.0,
    between: bool = False,
) -> np.ndarray:
    """One axial T2 slice ``offset_mm`` from a disc's centre (or between two discs)."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) * spacing
    half = (size - 1) * spacing / 2
    x, y = xx - half, yy - half  # x: patient left, y: posterior; canal centre at the origin
    share = 0.0 if between else disc_share(offset_mm)
    ap = spec.canal_ap_mm * (1 - spec.canal_narrowing[level_index] * share)
    body = soft_inside(np.hypot(x / 60.0, (y + 20.0) / 55.0) * 55.0 - 55.0)
    fat = soft_inside(np.hypot(x / 66.0, (y + 20.0) / 62.0) * 62.0 - 62.0) - body
    disc = soft_inside(np.hypot(x / 24.0, (y + 18.0) / 16.0) * 16.0 - 16.0)
    canal = soft_inside(np.hypot(x / 10.0, y / (ap / 2 + 0.5)) * 10.0 - 10.0)
    arch = soft_inside(np.abs(np.hypot(x, y - 4.0) - 16.0) - 2.5) * (y > 4.0)
    sig = tissue_signal(spec, "T2")
    img = body * sig["soft"] + np.clip(fat, 0, 1) * sig["fat"]
    img = img * (1 - arch) + arch * sig["post_bone"]
    inside = sig["marrow"] if between or abs(offset_mm) > DISC_HEIGHT_MM / 2 else sig["annulus"]
    img = img * (1 - disc) + disc * inside
    img = img * (1 - canal) + canal * sig["csf"]
    for side, sign in (("left", 1.0), ("right", -1.0)):
        narrowing = spec.recess_narrowing[side][level_index] * share
        recess, root = recess_masks(x, y, narrowing, sign, spec.recess_lateral_mm)
        outside = np.clip(recess - canal, 0, 1)  # the recess beyond the canal's own outline
        img = img * (1 - outside) + outside * sig["csf"]
        # what the facet took from the recess, inside the canal's outline too
        lost = canal * np.clip(
            recess_masks(x, y, 0.0, sign, spec.recess_lateral_mm)[0] - recess, 0, 1
        )
        img = img * (1 - lost) + lost * sig["ligament"]
        img = img * (1 - root) + root * sig["ligament"]
    return apply_scanner(spec, img, rng, spacing)
