"""The contrastive-pretraining ablation: recipes of pretraining and fine-tuning, each measured
the same way, so the default is chosen on evidence.

A recipe names a fine-tuning variant (``scratch``, ``contrastive``...) and overrides of the
pretraining, fine-tuning and variant settings. For every recipe, label fraction and seed, the
labelled training studies are drawn (``subsample_training``), the encoder is pretrained on every
training-split ROI (labels read only by a supervised term, and then only those of the drawn
studies), probed, and the grader fine-tuned; its predictions on the validation and test splits
are returned. Identical pretraining runs are done once.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from disc_grade.alignment.split import subsample_training
from disc_grade.models.training.checkpoint import fingerprint
from disc_grade.models.training.device import select_device
from disc_grade.models.training.finetune import finetune_grader
from disc_grade.models.training.pretrain import drawn_labels, pretrain_encoder
from disc_grade.models.training.probe import probe_weights

logger = logging.getLogger(__name__)


def merged(base: Mapping, override: Mapping | None) -> dict:
    """``base`` with ``override``'s keys replaced, nested mappings merged key by key.

    Raises:
        ValueError: ``override`` names a key ``base`` does not have (a typo would be silent).
    """
    out = copy.deepcopy(dict(base))
    for key, value in (override or {}).items():
        if key not in out:
            raise ValueError(f"ablation override '{key}' is not a known setting ({sorted(out)})")
        out[key] = merged(out[key], value) if isinstance(value, Mapping) else value
    return out


@dataclass(frozen=True)
class Recipe:
    """One row of the ablation: the settings its pretraining and fine-tuning run with."""

    name: str
    pretraining: dict  # full pretraining settings (unused when the variant starts at random)
    finetuning: dict  # full fine-tuning settings
    variant: dict  # full variant, named after the recipe

    @property
    def pretrained(self) -> bool:
        return self.variant["init"] == "pretrained"


def recipes_from_params(
    recipes: Mapping[str, Mapping], pretraining: dict, finetuning: dict, variants: dict
) -> list[Recipe]:
    """Recipes from ``ablation.recipes``: ``variant`` (a ``finetuning_variants`` key) and optional
    ``pretraining``, ``finetuning`` and ``variant_params`` overrides, and a ``description``.

    Raises:
        ValueError: an unknown variant, an unknown key, or an override of an unknown setting.
    """
    out = []
    for name, spec in recipes.items():
        unknown = set(spec) - {
            "variant",
            "pretraining",
            "finetuning",
            "variant_params",
            "description",
        }
        if unknown:
            raise ValueError(f"ablation recipe '{name}': unknown key(s) {sorted(unknown)}")
        if spec.get("variant") not in variants:
            raise ValueError(
                f"ablation recipe '{name}': variant must be one of {sorted(variants)}, "
                f"got {spec.get('variant')!r}"
            )
        variant = {**merged(variants[spec["variant"]], spec.get("variant_params")), "name": name}
        out.append(
            Recipe(
                name=name,
                pretraining=merged(pretraining, spec.get("pretraining")),
                finetuning=merged(finetuning, spec.get("finetuning")),
                variant=variant,
            )
        )
    return out


def run_ablation(
    rois: np.ndarray,
    index: pd.DataFrame,
    recipes: list[Recipe],
    fractions: list[float],
    seeds: list[int],
    compromise: np.ndarray | None = None,
    progress=None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Predictions (validation and test splits) and frozen-feature scores of every recipe.

    Args:
        rois: every ROI; row i of ``index`` describes ROI i.
        index: ``roi_index`` with ``split``, ``label``, ``study_id`` and the points.
        compromise: per ``index`` row, the visible canal compromise (phantom truth), or None.
        progress: called with a line per finished run (a log or a bar), or None.

    Returns:
        (predictions with ``variant`` = recipe, ``fraction``, ``seed``, ``n_train_studies``;
        one row per recipe, fraction and seed of frozen-feature scores: the pretrained encoder's,
        or a random one's for a recipe without pretraining).
    """
    rois = np.asarray(rois)
    index = index.reset_index(drop=True)  # row i describes ROI i
    train_rows = np.flatnonzero(index["split"].to_numpy() == "train")
    pretrained: dict[str, tuple[dict, dict]] = {}
    predictions, probes = [], []
    for recipe in recipes:
        for fraction in fractions:
            for seed in seeds:
                subset = subsample_training(index, float(fraction), int(seed))
                encoder_weights, scores = None, None
                if recipe.pretrained:
                    encoder_weights, scores = _pretrained(
                        recipe, rois, index, train_rows, subset, compromise, pretrained
                    )
                else:  # a random encoder's: the floor a pretraining must clear
                    device = select_device(recipe.finetuning["device"])
                    scores = probe_weights(
                        recipe.finetuning["encoder"], None, rois, index, device, compromise, seed
                    )
                rows = subset.index.to_numpy()
                run = {**recipe.finetuning, "seed": int(seed)}
                _, _, table = finetune_grader(
                    rois[rows], subset.reset_index(drop=True), encoder_weights, run, recipe.variant
                )
                n_train = subset.loc[subset["split"] == "train", "study_id"].nunique()
                predictions.append(
                    table.assign(fraction=float(fraction), seed=int(seed), n_train_studies=n_train)
                )
                probes.append(
                    {
                        "recipe": recipe.name,
                        "fraction": float(fraction),
                        "seed": int(seed),
                        **scores,
                    }
                )
                if progress is not None:
                    progress(f"{recipe.name}, fraction {fraction:g}, seed {seed}: done")
    return pd.concat(predictions, ignore_index=True), pd.DataFrame(probes)


def _pretrained(recipe, rois, index, train_rows, subset, compromise, cache):
    """The recipe's encoder for this labelled subset, and its frozen-feature scores (cached)."""
    params = {**recipe.pretraining, "checkpoint": None, "probe_every": 0}
    labels = None
    if float(params["supervised_weight"]) > 0:  # only the drawn studies' labels are read
        labels = drawn_labels(index, subset)
    key = (fingerprint(params), None if labels is None else fingerprint(labels))
    if key not in cache:
        weights, _ = pretrain_encoder(rois[train_rows], params, labels=labels)
        device = select_device(params["device"])
        scores = probe_weights(params["encoder"], weights, rois, index, device, compromise)
        cache[key] = (weights, scores)
    return cache[key]
