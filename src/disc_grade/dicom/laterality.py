"""Left and right from geometry: ImagePositionPatient and ImageOrientationPatient, never order.

DICOM patient coordinates are LPS: +x points to the patient's left. A point's side is the
sign of its x against the midline, so neither instance numbers nor file order can flip it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from disc_grade.dicom.geometry import pixel_to_patient

LEFT, RIGHT = "left", "right"


def patient_x(
    column: float,
    row: float,
    position: Sequence[float],
    orientation: Sequence[float],
    spacing: Sequence[float],
) -> float:
    """The LPS x (mm, + towards the patient's left) of a pixel of one slice."""
    return float(pixel_to_patient(column, row, position, orientation, spacing)[0])


def side_of(x_mm: float, midline_x_mm: float, tolerance_mm: float = 0.0) -> str | None:
    """``"left"`` or ``"right"`` of the patient for a point at LPS ``x_mm``.

    Returns None within ``tolerance_mm`` of the midline, where the side is not decided.
    """
    offset = float(x_mm) - float(midline_x_mm)
    if not np.isfinite(offset) or abs(offset) <= tolerance_mm:
        return None
    return LEFT if offset > 0 else RIGHT


def sagittal_midline_x(positions: np.ndarray) -> float:
    """The midline of a sagittal series: the mean LPS x of its slices' positions.

    A sagittal series is prescribed across the spine, so its middle slice sits near the
    midline; callers with a located canal should pass its x instead.
    """
    positions = np.asarray(positions, dtype=float)
    if positions.ndim != 2 or positions.shape[1] != 3 or len(positions) == 0:
        raise ValueError(f"positions must be [n, 3] ImagePositionPatient, got {positions.shape}")
    return float(positions[:, 0].mean())


def slices_on_side(positions: np.ndarray, midline_x_mm: float, side: str) -> np.ndarray:
    """Indices of the slices on ``side`` of the midline, nearest the midline first."""
    if side not in (LEFT, RIGHT):
        raise ValueError(f"side must be '{LEFT}' or '{RIGHT}', got '{side}'")
    offset = np.asarray(positions, dtype=float)[:, 0] - midline_x_mm
    sign = 1.0 if side == LEFT else -1.0
    chosen = np.flatnonzero(sign * offset > 0)
    return chosen[np.argsort(np.abs(offset[chosen]), kind="stable")]
