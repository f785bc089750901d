"""The one place that sets matplotlib up for files, not screens; figure modules import ``plt`` here.

The Agg backend is chosen once, before pyplot is first imported, so Kedro runs, DVC stages and
tests draw the same figures on a machine without a display.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from disc_grade.rsna import SEVERITIES  # noqa: E402

SEVERITY_COLOURS: dict[str, str] = dict(
    zip(SEVERITIES, ("#2ca02c", "#ff7f0e", "#d62728"), strict=True)
)
UNGRADED_COLOUR = "#1f77b4"

__all__ = ["SEVERITY_COLOURS", "UNGRADED_COLOUR", "plt"]
