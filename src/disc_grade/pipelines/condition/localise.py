"""Nodes: a condition's localiser, trained on its labelled targets and measured on held-out ones."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from disc_grade.alignment.split import EXTERNAL_TEST
from disc_grade.conditions import spec_of
from disc_grade.datasets import DicomTree
from disc_grade.dicom.headers import cpu_workers
from disc_grade.inference.studies import choose_series
from disc_grade.jsonable import json_ready
from disc_grade.localiser.data import build_grids, series_geometry
from disc_grade.localiser.evaluate import decoding_figures, error_summary, target_errors
from disc_grade.localiser.find import find_targets
from disc_grade.localiser.model import load_localiser
from disc_grade.localiser.train import fit_localiser
from disc_grade.localiser.units import (
    labelled_slice_error,
    point_columns,
    rank_columns,
    training_units,
)

logger = logging.getLogger(__name__)
FITTED_SPLITS = ("train", "validation")
HELD_OUT_SPLITS = ("test", EXTERNAL_TEST)


def prepare_localiser(
    targets: pd.DataFrame,
    series: pd.DataFrame,
    dicom_index: pd.DataFrame,
    images: DicomTree,
    name: str,
    params: dict[str, Any],
) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame]:
    """Grids of the series holding the train and validation targets, one index row per slice,
    and the localiser's units (``localiser.units``)."""
    size = int(params["grid_size"])
    fitted = targets[targets["split"].isin(FITTED_SPLITS)]
    grids, index, failures = build_grids(
        images.root, series_geometry(fitted, series), size, cpu_workers(params.get("workers"))
    )
    if len(failures):
        logger.warning(
            "%s localiser: %d series not decodable:\n%s", name, len(failures), failures.to_string()
        )
    units = training_units(spec_of(name), fitted, index, dicom_index, size)
    logger.info(
        "%s localiser: %d units on %d series, %d slices at %d px",
        name,
        len(units),
        units["series_id"].nunique(),
        len(grids),
        size,
    )
    return grids, index, units


def train_localiser(
    grids: np.ndarray,
    index: pd.DataFrame,
    units: pd.DataFrame,
    offsets: dict,
    name: str,
    params: dict[str, Any],
    alignment: dict[str, Any],
) -> tuple[dict, pd.DataFrame]:
    """The localiser, fitted on the train units and selected on the validation units' point
    error on their labelled slices, as it ships: its weights, its network's shape (``channels``,
    ``n_maps``) and the settings it finds targets with (``find_settings``), so that what
    evaluates it, the bundle and inference read it without the training parameters."""
    spec = spec_of(name)
    slices = np.asarray(grids)
    model, curve = fit_localiser(
        slices,
        units,
        point_columns(spec),
        rank_columns(spec),
        params,
        lambda net, val: labelled_slice_error(net, slices, val),
        desc=f"{name} localiser",
    )
    weights = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    return shipped_localiser(weights, name, params, alignment, offsets), curve


def shipped_localiser(
    weights: dict, name: str, params: dict[str, Any], alignment: dict[str, Any], offsets: dict
) -> dict:
    """A localiser as it ships: its ``weights``, its network's shape (``channels``, ``n_maps``)
    and the settings it finds targets with (``find_settings``)."""
    return {
        "weights": weights,
        "channels": list(params["channels"]),
        "n_maps": int(spec_of(name).n_maps),
        "find": find_settings(params, alignment, offsets),
    }


def find_settings(params: dict[str, Any], alignment: dict[str, Any], offsets: dict) -> dict:
    """What ``localiser.find.find_targets`` reads, from the condition's parameters."""
    return {
        "grid_size": int(params["grid_size"]),
        "min_peak": float(params["min_peak"]),
        "prior_mm": params.get("slice_prior_mm"),
        "max_disc_distance_mm": float(alignment["max_disc_distance_mm"]),
        "offsets": offsets,
    }


def evaluate_localiser(
    localiser: dict,
    targets: pd.DataFrame,
    series: pd.DataFrame,
    dicom_index: pd.DataFrame,
    series_descriptions: pd.DataFrame,
    images: DicomTree,
    landmarks: pd.DataFrame,
    name: str,
    params: dict[str, Any],
) -> tuple[dict, pd.DataFrame]:
    """Where the localiser (as ``train_localiser`` ships it) finds the held-out studies'
    targets, against the reader's.

    The series are chosen as inference chooses them; the foramina's midline and the recesses'
    disc planes come from the labelled canal points. Per split: targets, found, median and
    90th-centile error (mm, patient space), the shares within ``within_mm``, on the reader's
    slice and at the right level; and the same share with each level at its own peak, the
    adjacent levels closer than half the disc spacing both ways, the levels in doubt
    (``localiser.evaluate.decoding_figures``). The per-target table (``*_pred`` columns: where it was found)
    is what end-to-end grading crops.
    """
    spec = spec_of(name)
    held_out = targets[targets["split"].isin(HELD_OUT_SPLITS)]
    model = load_localiser(localiser["weights"], localiser["channels"], localiser["n_maps"])
    found, _ = find_targets(
        spec,
        model,
        images.root,
        choose_series(spec, series, series_descriptions),
        series,
        dicom_index,
        landmarks,
        sorted(set(held_out["study_id"])),
        localiser["find"],
    )
    errors = target_errors(found, held_out, dicom_index)
    within = float(params["within_mm"])
    metrics = {split: error_summary(rows, within) for split, rows in errors.groupby("split")}
    spacing = localiser["find"]["offsets"].get("level_spacing_mm")
    decoded = decoding_figures(found, held_out, dicom_index, spacing)
    for split, figures in decoded.items():
        metrics.setdefault(split, {}).update(figures)
    test = metrics.get("test", {})
    logger.info(
        "%s localiser, test: %s of %s found, median error %s mm, reader's slice %s",
        name,
        test.get("n_found"),
        test.get("n_targets"),
        test.get("median_error_mm"),
        test.get("same_slice"),
    )
    return json_ready(metrics), errors
