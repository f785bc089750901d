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
    canal_centres,
    family_conditions,
    placement_offsets,
    reconcile,
)
from disc_grade.alignment.split import EXTERNAL_TEST
from disc_grade.datasets import DicomTree
from disc_grade.dicom.headers import cpu_workers
from disc_grade.evaluation.ceiling import ceilings, truth_of
from disc_grade.evaluation.families import family_split_metrics, split_targets
from disc_grade.evaluation.rsna_score import condition_prior, labels_long, rsna_score
from disc_grade.inference.family_targets import localise_targets, place_targets
from disc_grade.inference.studies import choose_family_series
from disc_grade.jsonable import json_ready
from disc_grade.localiser.data import build_grids, series_geometry
from disc_grade.localiser.families import (
    error_summary,
    labelled_slice_error,
    n_points,
    point_columns,
    rank_columns,
    target_errors,
    training_units,
)
from disc_grade.localiser.model import load_localiser
from disc_grade.localiser.train import fit_localiser
from disc_grade.models.ablation import merged
from disc_grade.models.probe import compromise_per_roi
from disc_grade.pipelines.families.skip import NOT_TRAINED, family_status
from disc_grade.pipelines.pretraining.nodes import final_probe, pretrain_contrastive_encoder
from disc_grade.rsna import FAMILIES, LEVELS, condition_family

logger = logging.getLogger(__name__)
ENCODER_SOURCES = ("own", "spinal")
FITTED_SPLITS = ("train", "validation")
HELD_OUT_SPLITS = ("test", EXTERNAL_TEST)


def align_family_targets(
    train_labels: pd.DataFrame,
    label_coordinates: pd.DataFrame,
    series_descriptions: pd.DataFrame,
    series: pd.DataFrame,
    dicom_index: pd.DataFrame,
    discs: pd.DataFrame,
    params: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict]:
    """The family's targets (the canal's split), its exclusions, the per-condition
    reconciliation and its status.

    A family with no target in the training split cannot be trained: its targets join the
    exclusions (``condition_not_trained``), it returns none, and every later node of the
    family is skipped (``families.skip``).
    """
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
    if not (targets["split"] == "train").any():
        gone = targets.assign(source="label_cell", reason=NOT_TRAINED, detail="no training target")
        exclusions = pd.concat(
            [exclusions, gone[exclusions.columns].astype(exclusions.dtypes.to_dict())],
            ignore_index=True,
        )
        targets = targets.iloc[:0]
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
    status = family_status(family, targets, table)
    if not status["trained"]:
        logger.warning("families[%s]: skipped, %s", family, status["reason"])
    return targets, exclusions, table, status


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


def prepare_family_localiser(
    targets: pd.DataFrame,
    series: pd.DataFrame,
    dicom_index: pd.DataFrame,
    images: DicomTree,
    localiser: dict[str, Any],
    params: dict[str, Any],
) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame]:
    """Grids of the series holding the family's train and validation targets, one index row per
    slice, and the localiser's units (``localiser.families.training_units``)."""
    family = params["name"]
    settings = family_settings(localiser, params, "localiser")
    size = int(settings["grid_size"])
    fitted = targets[targets["split"].isin(FITTED_SPLITS)]
    grids, index, failures = build_grids(
        images.root, series_geometry(fitted, series), size, cpu_workers(settings.get("workers"))
    )
    if len(failures):
        logger.warning(
            "%s localiser: %d series not decodable:\n%s",
            family,
            len(failures),
            failures.to_string(),
        )
    units = training_units(fitted, index, dicom_index, family, size)
    logger.info(
        "%s localiser: %d units on %d series, %d slices at %d px",
        family,
        len(units),
        units["series_id"].nunique() if len(units) else 0,
        len(grids),
        size,
    )
    return grids, index, units


def train_family_localiser(
    grids: np.ndarray,
    index: pd.DataFrame,
    units: pd.DataFrame,
    localiser: dict[str, Any],
    params: dict[str, Any],
) -> tuple[dict, pd.DataFrame]:
    """The family's localiser, fitted on the train units and selected on the validation units'
    point error on their labelled slices."""
    family = params["name"]
    slices = np.asarray(grids)
    model, curve = fit_localiser(
        slices,
        units,
        point_columns(family),
        rank_columns(family),
        family_settings(localiser, params, "localiser"),
        lambda net, val: labelled_slice_error(net, slices, val),
        desc=f"{family} localiser",
    )
    return {k: v.detach().cpu() for k, v in model.state_dict().items()}, curve


def evaluate_family_localiser(
    weights: dict,
    placement: dict,
    targets: pd.DataFrame,
    discs: pd.DataFrame,
    series: pd.DataFrame,
    dicom_index: pd.DataFrame,
    series_descriptions: pd.DataFrame,
    images: DicomTree,
    localiser: dict[str, Any],
    min_peak: float,
    params: dict[str, Any],
) -> tuple[dict, pd.DataFrame]:
    """How near the reader's targets the family's localiser lands on the held-out studies,
    beside placing them from the canal points with the learnt offsets (``placement``).

    All start from the same labelled canal points (the midline, and the disc planes that level
    the axial slices) and the same series, chosen as the inference chooses them. Methods:
    ``localiser`` (slices chosen with the geometric prior ``slice_prior_mm``, as the inference
    does), ``localiser_presence_only`` (by confidence alone) and ``placement``. Per method and
    split: targets found, median and 90th-centile error (mm, patient space), the share within
    ``within_mm`` and the share on the reader's slice. ``min_peak`` is the inference's.
    """
    family = params["name"]
    settings = family_settings(localiser, params, "localiser")
    model = load_localiser(weights, settings["channels"], n_points(family))
    held_out = targets[targets["split"].isin(HELD_OUT_SPLITS)]
    studies = sorted(set(held_out["study_id"]))
    canal = canal_centres(discs, dicom_index)
    chosen = choose_family_series(series, series_descriptions, family)

    def localised(prior_mm):
        found, _ = localise_targets(
            family,
            model,
            int(settings["grid_size"]),
            float(min_peak),
            images.root,
            canal,
            chosen,
            series,
            dicom_index,
            placement,
            studies,
            LEVELS,
            prior_mm,
        )
        return found

    placed, _ = place_targets(
        family, canal, chosen, series, dicom_index, placement, studies, LEVELS
    )
    errors = pd.concat(
        [
            target_errors(localised(settings["slice_prior_mm"]), held_out, dicom_index).assign(
                method="localiser"
            ),
            target_errors(localised(None), held_out, dicom_index).assign(
                method="localiser_presence_only"
            ),
            target_errors(placed, held_out, dicom_index).assign(method="placement"),
        ],
        ignore_index=True,
    )
    within = float(settings["within_mm"])
    metrics: dict = {}
    for (method, split), table in errors.groupby(["method", "split"], sort=True):
        metrics.setdefault(method, {})[split] = error_summary(table, within)
    for method, by_split in metrics.items():
        test = by_split.get("test", {})
        logger.info(
            "%s targets, test, %s: %s of %s found, median error %s mm, on the reader's slice %s",
            family,
            method,
            test.get("n_found"),
            test.get("n_targets"),
            test.get("median_error_mm"),
            test.get("same_slice"),
        )
    return json_ready(metrics), errors


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
        at_prior = scored[~scored["graded"]]
        out[variant] = {
            **rsna_score(table),
            "n_studies": int(table["study_id"].nunique()),
            "n_scored_targets": int(len(scored)),
            "n_at_prior": int(len(at_prior)),
            "n_at_prior_by_family": {
                family: int((at_prior["condition"].map(condition_family) == family).sum())
                for family in FAMILIES
            },
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
