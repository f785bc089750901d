"""Which slices a localiser's unit may choose from, and the choice among them.

A unit (``conditions.ConditionSpec.unit``) is the whole series (the canal), one side of it (a
foramen: the slices on its side of the midline) or one level (a recess: the axial slices
geometry puts at that disc). Each candidate carries its ``deviation`` (mm) from where the anatomy
is expected; with a prior of width ``prior_mm`` it scores its log-confidence less
``0.5 (deviation / prior_mm)^2``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from disc_grade.conditions import SIDES
from disc_grade.dicom.axial_levels import axial_slice_levels
from disc_grade.dicom.laterality import sagittal_midline_x, side_of
from disc_grade.rsna import LEVELS

NO_CANAL_POINT = "no canal point at this level on sagittal T2"
NO_SLICE_ON_SIDE = "no {series} slice on this side"
NO_SLICE_AT_LEVEL = "no {series} slice within {mm:g} mm of the disc"


def slice_score(confidence, deviation_mm, prior_mm: float | None) -> np.ndarray:
    """Each candidate's score: its confidence, or with a prior of width ``prior_mm`` its
    log-confidence less ``0.5 (deviation / prior_mm)^2``."""
    confidence = np.asarray(confidence, dtype=float)
    if not prior_mm:
        return confidence
    return np.log(np.clip(confidence, 1e-6, 1.0)) - 0.5 * (np.asarray(deviation_mm) / prior_mm) ** 2


def candidate_units(spec, slices, study_landmarks, offsets, max_disc_mm) -> list[dict]:
    """Per unit of one study: its ``side``, ``levels``, candidate ``slices``, each candidate's
    ``deviation`` (mm) from where the anatomy is expected, and the ``reason`` it has none."""
    if spec.candidates == "all":
        return [
            {
                "side": None,
                "levels": list(LEVELS),
                "slices": slices,
                "deviation": np.zeros(len(slices)),
                "reason": None,
            }
        ]
    if spec.candidates == "side":
        midline = (
            float(study_landmarks["px"].median())
            if not study_landmarks.empty
            else sagittal_midline_x(slices[["ipp_x", "ipp_y", "ipp_z"]].to_numpy(dtype=float))
        )
        sides = np.array([side_of(x, midline) for x in slices["ipp_x"]], dtype=object)
        lateral = float(offsets["lateral_mm"])
        return [
            {
                "side": side,
                "levels": list(LEVELS),
                "slices": slices[sides == side],
                "deviation": (
                    (slices[sides == side]["ipp_x"] - midline).abs() - lateral
                ).to_numpy(),
                "reason": None if (sides == side).any() else NO_SLICE_ON_SIDE,
            }
            for side in SIDES
        ]
    levelled = axial_slice_levels(slices, study_landmarks, max_disc_mm)
    units = []
    for level in LEVELS:
        own = levelled[levelled["level"] == level]
        reason = None if len(own) else NO_SLICE_AT_LEVEL
        if level not in set(study_landmarks["level"]):
            reason = NO_CANAL_POINT
        units.append(
            {
                "side": None,
                "levels": [level],
                "slices": own,
                "deviation": own["distance_mm"].to_numpy(),
                "reason": reason,
            }
        )
    return units


def choose_slices(spec, unit_slices, channels, maps, deviation, prior_mm) -> list[pd.Series]:
    """The chosen slice (a row of ``unit_slices``) for each channel of a unit."""
    conf = np.stack(
        [maps[r.series_id][1][int(r.slice_rank), channels] for r in unit_slices.itertuples()]
    )  # [candidates, channels]
    if spec.slice_rule == "shared":
        best = int(np.argmax(slice_score(conf.mean(axis=1), deviation, prior_mm)))
        return [unit_slices.iloc[best]] * len(channels)
    return [
        unit_slices.iloc[int(np.argmax(slice_score(conf[:, j], deviation, prior_mm)))]
        for j in range(len(channels))
    ]
