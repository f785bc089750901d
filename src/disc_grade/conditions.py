"""What differs between the three things the project grades, as data read by generic code.

A *condition* here is one of the RSNA 2024 condition families: the spinal canal (one target
per level, read on sagittal T2), the neural foramina (left and right per level, sagittal T1) and
the lateral recesses (subarticular: left and right per level, axial T2). Every pipeline, from
the alignment of labels to inference, is one generic code path parameterised by a
:class:`ConditionSpec`; nothing else names a condition.

How a condition's localiser works follows from its spec:

- ``unit``: what one training example spans: a whole series (the canal: five canal points on
  the mid slice), one side of a series (the foramina: five, one per level, each on its own
  slice), or one level of a series (the recesses: left and right on the slice through the disc);
- ``maps``: ``levels`` (one heatmap per level) or ``sides`` (one per recess, by image column;
  which one is the patient's left follows from ImageOrientationPatient);
- ``slice_rule``: ``shared`` (one slice for all maps of a unit, the most confident together) or
  ``each`` (each map takes its own most confident slice);
- ``candidates``: which slices a unit may choose from: ``all``, those on the unit's ``side`` of
  the midline, or those geometry puts at the unit's ``level``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

from disc_grade.rsna import (
    AXIAL_T2,
    CONDITIONS,
    LEVELS,
    SAGITTAL_T1,
    SAGITTAL_T2,
    SERIES_DESCRIPTIONS,
    SPINAL,
)

SIDES = ("left", "right")
Plane = Literal["sagittal", "axial"]
Unit = Literal["series", "side", "level"]
Maps = Literal["levels", "sides"]
SliceRule = Literal["shared", "each"]
Candidates = Literal["all", "side", "level"]


@dataclass(frozen=True)
class ConditionSpec:
    """One condition family: its RSNA conditions, series, geometry checks and localiser."""

    name: str
    conditions: tuple[str, ...]
    series: str  # the series description it is read on (``rsna.SERIES_DESCRIPTIONS``)
    plane: Plane  # that series' plane
    unit: Unit
    maps: Maps
    slice_rule: SliceRule
    candidates: Candidates
    title: str  # the report's heading
    short: str  # what a table or a figure panel calls it
    target: str  # one of its targets, as a sentence names it (a side's word goes before)
    read_on: str  # what the report says it is graded on

    def __post_init__(self) -> None:
        """Raise ``ValueError`` naming the first field outside its allowed values."""
        allowed = {
            "plane": get_args(Plane),
            "unit": get_args(Unit),
            "maps": get_args(Maps),
            "slice_rule": get_args(SliceRule),
            "candidates": get_args(Candidates),
            "series": SERIES_DESCRIPTIONS,
        }
        for key, values in allowed.items():
            if getattr(self, key) not in values:
                raise ValueError(
                    f"condition '{self.name}': {key} must be one of {list(values)}, "
                    f"got {getattr(self, key)!r}"
                )
        unknown = [c for c in self.conditions if c not in CONDITIONS]
        if not self.conditions or unknown:
            raise ValueError(
                f"condition '{self.name}': conditions must be RSNA conditions "
                f"({list(CONDITIONS)}), got {list(self.conditions)}"
            )

    @property
    def n_maps(self) -> int:
        """Heatmaps of the localiser: one per level, or one per recess."""
        return len(LEVELS) if self.maps == "levels" else len(SIDES)

    @property
    def sided(self) -> bool:
        """Whether its targets have a side (left and right), checked by geometry."""
        return len(self.conditions) == len(SIDES)

    @property
    def needs_levels(self) -> bool:
        """Whether a slice's level comes from the disc planes (axial series)."""
        return self.plane == "axial"

    @property
    def needs_landmarks(self) -> bool:
        """Whether finding its targets needs the canal's points (midline, disc planes)."""
        return self.sided

    def target_name(self, condition: str) -> str:
        """One target of ``condition`` in words: ``canal``, ``left foramen``, ``right recess``."""
        side = self.side_of_condition(condition)
        return f"{side} {self.target}" if side else self.target

    def side_of_condition(self, condition: str) -> str | None:
        """``left``/``right`` of a sided condition, None for the canal."""
        return condition.split("_")[0] if self.sided else None

    def channel(self, condition: str, level: str, row_direction_x: float = 1.0) -> int:
        """The heatmap that localises one target.

        ``row_direction_x`` is ImageOrientationPatient[0], the LPS x step along a row: positive
        when columns run towards the patient's left, so the left recess has the larger column.

        Raises:
            ValueError: an axial slice whose rows do not run left-right.
        """
        if self.maps == "levels":
            return LEVELS.index(level)
        if not np.isfinite(row_direction_x) or row_direction_x == 0:
            raise ValueError(
                "an axial slice's rows must run left-right (ImageOrientationPatient[0] = 0)"
            )
        left = self.side_of_condition(condition) == "left"
        return 1 if left == (row_direction_x > 0) else 0


SPECS: dict[str, ConditionSpec] = {
    spec.name: spec
    for spec in (
        ConditionSpec(
            "spinal",
            (SPINAL,),
            SAGITTAL_T2,
            "sagittal",
            unit="series",
            maps="levels",
            slice_rule="shared",
            candidates="all",
            title="Spinal canal stenosis",
            short="canal",
            target="canal",
            read_on="mid-sagittal T2 slices, one ROI per level",
        ),
        ConditionSpec(
            "foraminal",
            tuple(c for c in CONDITIONS if "foraminal" in c),
            SAGITTAL_T1,
            "sagittal",
            unit="side",
            maps="levels",
            slice_rule="each",
            candidates="side",
            title="Neural foraminal narrowing",
            short="foramina",
            target="foramen",
            read_on="parasagittal T1 slices, one ROI per side and level",
        ),
        ConditionSpec(
            "subarticular",
            tuple(c for c in CONDITIONS if "subarticular" in c),
            AXIAL_T2,
            "axial",
            unit="level",
            maps="sides",
            slice_rule="shared",
            candidates="level",
            title="Subarticular stenosis",
            short="recesses",
            target="recess",
            read_on="axial T2 slices through each disc, one ROI per side and level",
        ),
    )
}
CONDITION_NAMES: tuple[str, ...] = tuple(SPECS)
# the condition the paper grades (the canal), whose points level the others' slices
CANAL = next(name for name, spec in SPECS.items() if SPINAL in spec.conditions)


def spec_of_condition(condition: str) -> ConditionSpec:
    """The spec grading RSNA condition ``condition`` (e.g. ``left_subarticular_stenosis``).

    Raises:
        ValueError: no spec grades it.
    """
    for spec in SPECS.values():
        if condition in spec.conditions:
            return spec
    raise ValueError(f"no condition spec grades '{condition}'; known: {list(CONDITIONS)}")


def spec_of(name: str) -> ConditionSpec:
    """The spec of condition ``name``.

    Raises:
        ValueError: not one of ``CONDITION_NAMES``.
    """
    if name not in SPECS:
        raise ValueError(f"condition must be one of {list(SPECS)}, got '{name}'")
    return SPECS[name]


def level_neighbours(condition: str) -> list[list[str]]:
    """The same-level targets a target of ``condition`` is read beside, by role (a role of
    several is averaged; what the study stacker reads): the canal, each sided family's two
    sides; a sided target, the canal, its family's other side, then the other sided family's
    same side and other side.

    Raises:
        ValueError: no spec grades ``condition``.
    """
    spec = spec_of_condition(condition)
    sided = [s for s in SPECS.values() if s.sided]
    if not spec.sided:
        return [list(s.conditions) for s in sided]
    side = spec.side_of_condition(condition)
    other = next(s for s in sided if s.name != spec.name)

    def on(family: ConditionSpec, same: bool) -> list[str]:
        return [c for c in family.conditions if (family.side_of_condition(c) == side) == same]

    return [list(SPECS[CANAL].conditions), on(spec, False), on(other, True), on(other, False)]
