"""The neural foramina on the parasagittal slices: a keyhole of fat per side and disc, with the
exiting root in its upper part, narrowed from the front (disc) and the back (facets)."""

from __future__ import annotations

import numpy as np

from disc_grade.phantom.anatomy import StudySpec
from disc_grade.phantom.partial_volume import soft_inside
from disc_grade.phantom.spine import SpineLayout

FORAMEN_HALF_SPAN_MM = 3.0  # slices this close to a foramen's plane show it fully...
FORAMEN_FADE_MM = 1.0  # ...and it fades over this distance beyond (best seen on its own plane)
FORAMEN_HALF_MM = (4.5, 6.5)  # half-width (front-back) and half-height of a healthy foramen
EXITING_ROOT_MM = 1.5  # radius of the exiting root, in the foramen's upper part


def foramen_window(distance_mm: float) -> float:
    """How much of a foramen a parasagittal slice ``distance_mm`` from its plane shows."""
    return float(0.5 * (1.0 - np.tanh((distance_mm - FORAMEN_HALF_SPAN_MM) / FORAMEN_FADE_MM)))


def foramen_masks(
    spec: StudySpec, u: np.ndarray, v: np.ndarray, layout: SpineLayout, side: str
) -> tuple[np.ndarray, np.ndarray]:
    """(fat, exiting root) of one side's foramina at every disc, on the sagittal grid.

    Each foramen is a keyhole of fat, wider at the top where the exiting root runs. Narrowing
    (``foraminal_narrowing``) takes the fat from the front (disc bulge, ``bulge_share``) and from
    the back (facet overgrowth, the rest), until the root is pinched.
    """
    hu, hv = FORAMEN_HALF_MM
    fat = np.zeros_like(u)
    root = np.zeros_like(u)
    for k, centre in enumerate(layout.disc_centres):
        lost = 2 * hu * 0.9 * spec.foraminal_narrowing[side][k]
        share = spec.bulge_share[k]
        front = 1.0 + 0.2 * spec.canal_ap_mm - hu + share * lost
        back = 1.0 + 0.2 * spec.canal_ap_mm + hu - (1 - share) * lost
        cu, half_u = (front + back) / 2, max((back - front) / 2, 0.3)
        cv = centre - 1.5
        widen = np.clip(1.0 + 0.35 * (cv - v) / hv, 0.6, 1.4)  # keyhole: wider at the top
        inside = np.hypot((u - cu) / (half_u * widen), (v - cv) / hv) - 1.0
        fat = np.maximum(fat, soft_inside(inside * min(half_u, hv)))
        root = np.maximum(
            root, soft_inside(np.hypot(u - cu, v - (cv - 0.45 * hv)) - EXITING_ROOT_MM)
        )
    return fat, root
