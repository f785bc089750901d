"""Partial volume: every structure is a soft mask whose edge is a fraction of a millimetre wide."""

from __future__ import annotations

import numpy as np

EDGE_MM = 0.6  # width of the partial-volume edge of every structure


def soft_inside(distance: np.ndarray) -> np.ndarray:
    """1 inside (negative distance, mm), 0 outside, smooth over ``EDGE_MM``."""
    return 0.5 * (1.0 - np.tanh(distance / EDGE_MM))
