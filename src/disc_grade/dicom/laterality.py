"""Left and right from geometry: ImagePositionPatient and ImageOrientationPatient, never order.

DICOM patient coordinates are LPS: +x points to the patient's left. A point's side is the
sign of its x against the midline, so neither instance numbers nor file order can flip it.
"""

from __future__ import annotations

import numpy as np

LEFT, RIGHT = "left", "right"


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
