"""A condition without a training target is skipped, not fatal to the run.

No series of its kind anywhere, no filled label cell, or no slice at a disc: the condition's
alignment then lists every cell with its reason and returns no target (``status`` says so), and
every later node of the condition returns its empty output instead of running, so the other
conditions run to the end. The RSNA score scores the skipped targets at the training prior, the
report names the condition and its reason counts, and inference flags its targets.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)
SKIPPED = {"skipped": True, "reason": "no target of this condition in the training split"}


def skippable_node(func, inputs, outputs, empty, arg: int = 0, name: str | None = None):
    """A Kedro node that returns ``empty()`` when its ``arg``-th input is empty (a skipped
    condition)."""
    from kedro.pipeline import Node

    return Node(skipped_when_empty(func, empty, arg), inputs, outputs, name=name or func.__name__)


def is_skipped(value: Any) -> bool:
    """Whether a node's input is what a skipped condition leaves: no rows, or ``SKIPPED``."""
    if isinstance(value, dict):
        return not value or bool(value.get("skipped"))
    return len(value) == 0


def skipped_when_empty(func: Callable, empty: Callable[[], Any], arg: int = 0) -> Callable:
    """``func``, returning ``empty()`` without running when its ``arg``-th input is empty.

    The signature stays ``func``'s (Kedro checks a node's inputs against it).
    """

    @functools.wraps(func)
    def wrapper(*args):
        if is_skipped(args[arg]):
            logger.info("%s: nothing to do, the condition is skipped", func.__name__)
            return empty()
        return func(*args)

    return wrapper


def empty_frame() -> pd.DataFrame:
    """A table without rows (one column, so that a CSV of it loads again)."""
    return pd.DataFrame(columns=["skipped"])


def empty_grids() -> np.ndarray:
    """No localiser grids."""
    return np.zeros((0, 1, 1), dtype=np.float16)


def empty_rois() -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame]:
    """No ROIs, no index rows, no exclusions."""
    return np.zeros((0, 3, 1, 1), dtype=np.float16), empty_frame(), empty_frame()


def skipped_figure():
    """A figure of a skipped condition: one that says so."""
    from disc_grade.plotting import plt

    fig, ax = plt.subplots(figsize=(4, 1.5))
    ax.axis("off")
    ax.text(0.5, 0.5, "the condition was skipped", ha="center", va="center")
    return fig


def skipped(*empties: Callable[[], Any]) -> Callable[[], Any]:
    """The empty outputs of a node with several outputs (one factory each)."""
    return lambda: tuple(e() for e in empties) if len(empties) > 1 else empties[0]()


def nothing() -> dict:
    """The empty JSON of a skipped step."""
    return dict(SKIPPED)
