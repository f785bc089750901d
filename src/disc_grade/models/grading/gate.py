"""The one keep-or-drop rule: a candidate (a calibration method, the posterior rule, BatchNorm
adaptation, a study-context head, the joint head, a family of the study stacker) is kept over
what ships only where it wins in at least ``confidence`` of the study resamples.

The resampling is ``models.grading.calibration.paired_gain`` (the studies resampled, the share
of resamples in which the candidate's log loss beats the shipped one's: ``share_won``); ``wins``
is the verdict on that share, ``gate`` the same verdict written into the comparison's row the
report prints. Every keep-or-drop decision of the project calls one of the two.
"""

from __future__ import annotations

import math


def wins(share_won: float | None, confidence: float) -> bool:
    """Whether a candidate that won ``share_won`` of the study resamples is kept: at least
    ``confidence`` of them (a share that could not be measured, None or NaN, never wins).

    Raises:
        ValueError: ``confidence`` is not in (0, 1].
    """
    if not 0 < float(confidence) <= 1:
        raise ValueError(f"confidence must be in (0, 1], got {confidence!r}")
    if share_won is None or math.isnan(float(share_won)):
        return False
    return float(share_won) >= float(confidence)


def gate(paired: dict, confidence: float) -> dict:
    """``paired`` (a ``paired_gain`` comparison: ``gain``, ``share_won``, ``n_resamples``) with
    the confidence asked and the verdict, ``kept``."""
    return {
        **paired,
        "confidence": float(confidence),
        "kept": wins(paired.get("share_won"), confidence),
    }
