"""How a condition's candidates are judged and chosen, parsed once per run beside its training
recipe: the settings every choice of the selection room reads.

``condition_settings`` turns a condition's parameter blocks into its ``Recipe``
(``models.training.recipe``) and its ``Judging``, so that each choice node takes one settings
object instead of five blocks, and a bad criterion is refused once, by its parameter's name,
before anything trains.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from disc_grade.models.training.recipe import Recipe, parse_recipe
from disc_grade.selection.variants import criterion


@dataclass(frozen=True)
class Judging:
    """The settings the selection room's choices read, each block as conf gives it:
    ``selection`` (the criterion, a forced variant, the fold average), ``calibration`` (methods,
    rules, the gate's confidence), ``evaluation`` (bootstrap resamples, bins) and
    ``leave_site_out`` (how many sites, their weight)."""

    selection: dict[str, Any]
    calibration: dict[str, Any]
    evaluation: dict[str, Any]
    leave_site_out: dict[str, Any]

    @property
    def by(self) -> str:
        """The criterion every choice compares candidates by (``variants.criterion``)."""
        return criterion(self.selection)


def condition_settings(
    pretraining: Mapping[str, Any],
    finetuning: Mapping[str, Any],
    variants: Mapping[str, Mapping],
    selection: Mapping[str, Any],
    calibration: Mapping[str, Any],
    evaluation: Mapping[str, Any],
    leave_site_out: Mapping[str, Any],
) -> tuple[Recipe, Judging]:
    """A condition's ``Recipe`` (``parse_recipe``) and its ``Judging``.

    Raises:
        ValueError: ``selection.by`` is not a criterion (refused before anything trains), or
            the recipe's variants are incomplete (``parse_recipe``).
    """
    blocks = (selection, calibration, evaluation, leave_site_out)
    criterion(selection)  # a bad criterion is refused here, before anything trains
    judging = Judging(*(dict(block) for block in blocks))
    return parse_recipe(pretraining, finetuning, variants), judging
