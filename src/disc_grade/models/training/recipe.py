"""The training recipe's vocabulary: every key a condition's ``pretraining`` and ``finetuning``
blocks (and an ablation recipe's overrides of them) may hold, checked once before a run.

A misspelt or retired key would otherwise be read by nothing and change nothing, silently;
``check_recipes`` refuses it by its full name (``spinal.finetuning.lr_rate``), with the key it
most resembles. The encoder and augmentation blocks are checked against the keys
``encoder_from_params`` and ``AugmentConfig`` take.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from disc_grade.models.components.augment import AugmentConfig
from disc_grade.models.components.networks import ENCODER_KEYS
from disc_grade.models.training.loop_state import LoopConfig

VARIANTS = ("contrastive", "scratch", "frozen")  # the fine-tuning variants every condition trains
# a condition's parameter blocks that no code reads any more, and why
RETIRED_BLOCKS = {
    "context": "the study-context head was retired: never kept out of fold, the joint head grades "
    "a study's targets together",
}
LOOP_KEYS = frozenset(LoopConfig.__dataclass_fields__)
PRETRAINING_KEYS = LOOP_KEYS | {
    "encoder",
    "augment",
    "projection_hidden",
    "projection_dim",
    "temperature",
    "lr",
    "weight_decay",
    "probe_every",
    "probe_failure_margin",
    "supervised_weight",
    "augment_audit_bound",
    "checkpoint",
}
FINETUNING_KEYS = LOOP_KEYS | {
    "encoder",
    "augment",
    "lr",
    "weight_decay",
    "dropout",
    "class_weights",
    "focal_gamma",
    "localisation_weight",
    "select_localisation_weight",
    "checkpoint_dir",
}
BLOCKS = {"pretraining": PRETRAINING_KEYS, "finetuning": FINETUNING_KEYS}
NESTED = {
    "encoder": frozenset(ENCODER_KEYS),
    "augment": frozenset(AugmentConfig.__dataclass_fields__),
}


def _unknown(where: str, block: Mapping, known: Iterable[str]) -> list[str]:
    """``where.key (did you mean ...?)`` for each key of ``block`` not in ``known``."""
    known = sorted(known)
    out = []
    for key in sorted(set(block) - set(known)):
        close = difflib.get_close_matches(str(key), known, n=1)
        out.append(f"{where}.{key}" + (f" (did you mean '{close[0]}'?)" if close else ""))
    return out


def recipe_errors(where: str, block: Mapping | None, known: frozenset[str]) -> list[str]:
    """The unknown keys of one ``pretraining`` or ``finetuning`` block and of its nested
    ``encoder`` and ``augment`` blocks."""
    block = block or {}
    errors = _unknown(where, block, known)
    for name, keys in NESTED.items():
        if isinstance(block.get(name), Mapping):
            errors += _unknown(f"{where}.{name}", block[name], keys)
    return errors


def check_recipes(parameters: Mapping, conditions: Iterable[str]) -> None:
    """Refuse a key no code reads in any condition's recipe blocks (and the ablation recipes'
    overrides of them), and a retired block of a condition (``RETIRED_BLOCKS``).

    Raises:
        ValueError: naming every unknown key by its full parameter path.
    """
    errors: list[str] = []
    for name in conditions:
        own = parameters.get(name) or {}
        errors += [
            f"{name}.{block} ({why})" for block, why in RETIRED_BLOCKS.items() if block in own
        ]
        for block, known in BLOCKS.items():
            errors += recipe_errors(f"{name}.{block}", own.get(block), known)
        for recipe, spec in ((own.get("ablation") or {}).get("recipes") or {}).items():
            for block, known in BLOCKS.items():
                where = f"{name}.ablation.recipes.{recipe}.{block}"
                errors += recipe_errors(where, (spec or {}).get(block), known)
    if errors:
        raise ValueError(
            "unknown training parameter(s), read by no code (misspelt, or retired: "
            "docs/results-log.md): " + "; ".join(errors)
        )


@dataclass(frozen=True)
class Recipe:
    """A condition's training recipe, parsed once per run (``parse_recipe``): its ``pretraining``
    and ``finetuning`` blocks and its variants' settings by name, in ``VARIANTS`` order. Every
    node that trains, or loads what was trained, takes it."""

    pretraining: dict[str, Any]
    finetuning: dict[str, Any]
    variants: dict[str, dict[str, Any]]

    @property
    def ordered(self) -> list[dict[str, Any]]:
        """The variants' settings in the order every run trains them (``VARIANTS``)."""
        return [self.variants[v] for v in VARIANTS]

    @property
    def network(self) -> dict[str, Any]:
        """What a grader's weights are loaded into: the encoder description and the device."""
        return {
            "device": self.finetuning.get("device", "auto"),
            "encoder": self.finetuning["encoder"],
        }


def parse_recipe(
    pretraining: Mapping[str, Any], finetuning: Mapping[str, Any], variants: Mapping[str, Mapping]
) -> Recipe:
    """The condition's ``Recipe``. Its keys were checked by name before the run started
    (``check_recipes``, the project's hook).

    Raises:
        ValueError: ``finetuning_variants`` lacks one of ``VARIANTS``.
    """
    missing = [v for v in VARIANTS if v not in (variants or {})]
    if missing:
        raise ValueError(
            f"finetuning_variants has no {missing} (it names {sorted(variants or {})})"
        )
    return Recipe(dict(pretraining), dict(finetuning), {v: dict(variants[v]) for v in VARIANTS})
