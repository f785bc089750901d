"""Figures as JSON can hold them: NaN becomes null, numpy scalars become Python numbers."""

from __future__ import annotations

import math

import numpy as np


def json_ready(value):
    """``value`` with every nested NaN as None and numpy numbers as ``float``/``int``."""
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value
