"""Where the phantom's axial T2 slices lie: stacks angled to each disc, like real series.

Each level gets a stack of ``n_axial_per_level`` slices perpendicular to the spine at its disc;
some studies have a slice between each pair of stacks, and some split the levels over two
axial series. The renderer and the label coordinates both read this one layout, so a labelled
instance is always the slice that shows its disc.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from disc_grade.phantom.anatomy import PhantomConfig, StudySpec
from disc_grade.phantom.render import canal_point
from disc_grade.phantom.spine import local_to_image, spine_layout
from disc_grade.rsna import AXIAL_T2, LEVELS

AXIAL_FOV_MM = 180.0
AXIAL_SLICE_GAP_MM = 4.0


@dataclass(frozen=True)
class AxialSlice:
    """One axial slice: its series, instance, the disc it was aimed at and its geometry."""

    series_id: int
    instance_number: int
    level_index: int  # the stack's disc; for a slice between discs, the disc above it
    offset_mm: float  # along the slice normal from that disc's centre (+ towards the head)
    position: tuple[float, float, float]  # ImagePositionPatient (LPS mm)
    orientation: tuple[float, ...]  # ImageOrientationPatient
    between: bool = False


def axial_geometry(spec: StudySpec) -> tuple[int, float]:
    """(size in px, pixel spacing in mm) of the study's axial images."""
    size = max(64, int(round(spec.rows * 0.75 / 16) * 16))
    return size, AXIAL_FOV_MM / size


def disc_centre_patient(spec: StudySpec, level_index: int) -> np.ndarray:
    """The canal's centre at a disc in patient coordinates (LPS mm; the midline is x = 0)."""
    x_mm, y_mm = canal_point(spec, level_index)
    origin_y = -(spec.columns - 1) * spec.pixel_spacing / 2
    origin_z = (spec.rows - 1) * spec.pixel_spacing / 2
    return np.array([0.0, origin_y + x_mm, origin_z - y_mm])


def disc_normal_patient(spec: StudySpec, level_index: int) -> np.ndarray:
    """Unit normal (towards the head) of the plane through a disc, perpendicular to the spine.

    The spine's direction comes from its tilt and lordosis; a slip's step is left out, as a
    radiographer aligns the stack to the disc, not to the step.
    """
    layout = spine_layout(spec)
    v = float(layout.disc_centres[level_index])
    u = np.array([1.0 + spec.canal_ap_mm / 2] * 2)
    x, y = local_to_image(replace(spec, slip_mm=0.0), u, np.array([v - 1.0, v + 1.0]))
    down = np.array([0.0, x[1] - x[0], -(y[1] - y[0])])  # image x is posterior, image y is down
    return -down / np.linalg.norm(down)


def _slice(series_id, instance, k, offset, centre, normal, half, between=False) -> AxialSlice:
    row = np.array([1.0, 0.0, 0.0])  # rows run to the patient's left
    col = np.cross(normal, row)  # columns run posterior, tilted with the disc
    position = centre + offset * normal - half * row - half * col
    return AxialSlice(
        series_id=series_id,
        instance_number=instance,
        level_index=k,
        offset_mm=float(offset),
        position=tuple(float(p) for p in position),
        orientation=tuple(float(c) for c in (*row, *col)),
        between=between,
    )


def axial_slices(spec: StudySpec, config: PhantomConfig) -> list[AxialSlice]:
    """Every axial slice of the study, in instance order within each series."""
    size, spacing = axial_geometry(spec)
    half = (size - 1) * spacing / 2
    n = config.n_axial_per_level
    first_series = spec.series_ids[AXIAL_T2]
    out: list[AxialSlice] = []
    counters: dict[int, int] = {}
    for k in range(len(LEVELS)):
        second = spec.second_axial_from is not None and k >= spec.second_axial_from
        series_id = spec.second_axial_series_id if second else first_series
        centre, normal = disc_centre_patient(spec, k), disc_normal_patient(spec, k)
        for j in range(n):  # from the head down
            counters[series_id] = counters.get(series_id, 0) + 1
            offset = ((n - 1) / 2 - j) * AXIAL_SLICE_GAP_MM
            out.append(_slice(series_id, counters[series_id], k, offset, centre, normal, half))
        next_in_series = k + 1 < len(LEVELS) and not (
            spec.second_axial_from is not None and k + 1 == spec.second_axial_from
        )
        if spec.between_slices and next_in_series:
            below = disc_centre_patient(spec, k + 1)
            midway = (centre + below) / 2
            counters[series_id] += 1
            out.append(
                _slice(series_id, counters[series_id], k, 0.0, midway, normal, half, between=True)
            )
    return out


def labelled_axial_slice(slices: list[AxialSlice], level_index: int) -> AxialSlice:
    """The slice a reader marks for a level: the stack's slice nearest the disc's centre."""
    stack = [s for s in slices if s.level_index == level_index and not s.between]
    return min(stack, key=lambda s: (abs(s.offset_mm), s.instance_number))
