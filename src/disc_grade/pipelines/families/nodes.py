"""Nodes of the families pipeline: the canal's recipe applied to the foramina and the recesses.

Per family: align its two conditions (sides checked by geometry), cut one ROI per side and
level, give it an encoder (its own contrastive pretraining, or the canal's encoder shared),
fine-tune the three variants, and measure them. Domain logic lives in ``alignment.families``,
``dicom.extract``, ``models`` and ``evaluation.families``.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from disc_grade.alignment.families import (
    align_family,
    family_conditions,
    placement_offsets,
    reconcile,
)
from disc_grade.evaluation.ceiling import ceilings, truth_of
from disc_grade.evaluation.families import family_split_metrics, split_targets
from disc_grade.evaluation.rsna_score import condition_prior, labels_long, rsna_score
from disc_grade.jsonable import json_ready
from disc_grade.models.ablation import merged
from disc_grade.models.probe import compromise_per_roi
from disc_grade.pipelines.pretraining.nodes import final_probe, pretrain_contrastive_encoder

logger = logging.getLogger(__name__)
ENCODER_SOURCES = ("own", "spinal")


def align_family_targets(
    train_labels: pd.DataFrame,
    label_coordinates: pd.DataFrame,
    series_descriptions: pd.DataFrame,
    series: pd.DataFrame,
    dicom_index: pd.DataFrame,
    discs: pd.DataFrame,
    params: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The family's targets (the canal's split), its exclusions and the per-condition reconciliation."""
    family = params["name"]
    targets, exclusions = align_family(
        train_labels,
        label_coordinates,
        series_descriptions,
        series,
        dicom_index,
        discs,
        family,
        params["alignment"],
    )
    table = reconcile(train_labels, targets, exclusions)
    for row in table.itertuples():
        logger.info(
            "alignment[%s]: %d label cells = %d targets + %d excluded",
            row.condition,
            row.label_cells,
            row.targets,
            row.excluded,
        )
    if not table["balanced"].all():
        raise RuntimeError(f"alignment[{family}]: cells and targets + exclusions differ:\n{table}")
    return targets, exclusions, table


def learn_placement(
    targets: pd.DataFrame, discs: pd.DataFrame, dicom_index: pd.DataFrame, params: dict[str, Any]
) -> dict:
    """How far the family's labelled points lie from the canal point (training split), for
    placing a new study's targets at inference; the axial family adds its disc-distance limit."""
    offsets = placement_offsets(targets, discs, dicom_index)
    offsets["max_disc_distance_mm"] = float(params["alignment"]["max_disc_distance_mm"])
    logger.info(
        "placement[%s]: %.1f mm lateral (MAD %.1f), %.1f mm anterior (MAD %.1f) of the canal point, "
        "%d training points",
        params["name"],
        offsets["lateral_mm"],
        offsets["lateral_mad_mm"],
        offsets["anterior_mm"],
        offsets["anterior_mad_mm"],
        offsets["n_points"],
    )
    return offsets


def family_settings(base: dict[str, Any], params: dict[str, Any], key: str) -> dict[str, Any]:
    """The canal's ``pretraining`` or ``finetuning`` settings with the family's overrides."""
    return merged(base, params.get(key))


def finetuning_settings(finetuning: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """The canal's fine-tuning settings with the family's overrides (its checkpoint folder)."""
    return family_settings(finetuning, params, "finetuning")


def family_encoder(
    family_rois: np.ndarray,
    family_index: pd.DataFrame,
    spinal_encoder: dict,
    phantom_truth: pd.DataFrame,
    pretraining: dict[str, Any],
    params: dict[str, Any],
) -> tuple[dict, dict]:
    """The family's encoder and its probe: pretrained on its own ROIs, or the canal's shared.

    ``encoder_source``: ``own`` pretrains contrastively on the family's train-split ROIs (one
    encoder per plane); ``spinal`` reuses the canal's encoder (one shared encoder). Either way
    the frozen features are probed on the family's ROIs beside a random encoder (and, on the
    phantom, against the visible compromise of each ROI's own condition).
    """
    source = params["encoder_source"]
    if source not in ENCODER_SOURCES:
        raise ValueError(
            f"families.{params['name']}.encoder_source must be one of {ENCODER_SOURCES}, got '{source}'"
        )
    settings = family_settings(pretraining, params, "pretraining")
    if source == "own":
        weights, _, _, probe = pretrain_contrastive_encoder(
            family_rois, family_index, phantom_truth, settings
        )
    else:
        weights = spinal_encoder
        compromise = compromise_per_roi(family_index, phantom_truth)
        probe = final_probe(weights, np.asarray(family_rois), family_index, settings, compromise)
    probe = json_ready({**probe, "encoder_source": source})
    logger.info(
        "encoder[%s]: %s; linear probe %.3f (random encoder %.3f)",
        params["name"],
        source,
        probe["probe_balanced_accuracy"],
        probe["random_init_probe_balanced_accuracy"],
    )
    return weights, probe


def family_ceiling(phantom_truth: pd.DataFrame, predictions: pd.DataFrame, params: dict) -> dict:
    """The Bayes ceiling of the family's grades per split, where the latent is known (the phantom)."""
    truth = truth_of(phantom_truth, family_conditions(params["name"]))
    if not phantom_truth.empty and truth.empty:
        return {"available": False, "reason": "the phantom truth has no rows of this family"}
    return json_ready(ceilings(truth, predictions))


def family_metrics(predictions: pd.DataFrame, params: dict[str, Any]) -> dict:
    """variant -> split -> the family's figures (both sides pooled, and each side)."""
    out: dict = {}
    for (variant, split), table in predictions.groupby(["variant", "split"], sort=False):
        out.setdefault(variant, {})[split] = family_split_metrics(
            table, int(params["n_resamples"]), int(params["seed"]), int(params["n_bins"])
        )
    return json_ready(out)


def full_rsna_score(
    train_labels: pd.DataFrame,
    discs: pd.DataFrame,
    predictions: pd.DataFrame,
    foraminal_predictions: pd.DataFrame,
    subarticular_predictions: pd.DataFrame,
) -> dict:
    """The competition score over all 25 targets of the test studies, per variant, beside the prior.

    Targets the pipeline could not grade (excluded cells) carry the training split's prior;
    the count of them is reported. Two graders that never look at the image stand beside:
    ``prior`` answers every target with its condition's training frequencies, and
    ``weighted_prior`` with the constant that minimises the 1/2/4-weighted log loss (those
    frequencies times the weights, renormalised).
    """
    train_studies = set(discs.loc[discs["split"] == "train", "study_id"])
    labels = labels_long(train_labels)
    train_rows = labels[labels["study_id"].isin(train_studies)]
    prior = condition_prior(train_rows)
    tables = [predictions, foraminal_predictions, subarticular_predictions]
    out: dict = {}
    table = None
    for variant in sorted(set(predictions["variant"])):
        table = split_targets(labels, tables, prior, variant)
        scored = table[table["label"] >= 0]
        out[variant] = {
            **rsna_score(table),
            "n_studies": int(table["study_id"].nunique()),
            "n_scored_targets": int(len(scored)),
            "n_at_prior": int((~scored["graded"]).sum()),
        }
    if table is not None:  # the graders that never look at the image, on the same targets
        keys = table.drop(columns=[c for c in table if c.startswith("p_")])
        for name, weighted in (("prior", False), ("weighted_prior", True)):
            constant = condition_prior(train_rows, weighted)
            out[name] = {
                **rsna_score(keys.merge(constant, on="condition")),
                "n_studies": int(table["study_id"].nunique()),
            }
    for name, score in out.items():
        logger.info("RSNA score over 25 targets, test split, %s: %.4f", name, score["rsna_score"])
    return json_ready(out)
