"""Finding a condition's targets in a study with its localiser: one code path for every condition.

Every slice of the study's series (the condition's: sagittal T2, sagittal T1, or every axial T2
series) goes through the localiser; then each unit chooses its slice among its candidates
(``conditions.ConditionSpec``): the whole series (the canal), the slices on its side of the
midline (a foramen), or the slices geometry puts at its level (a recess). With a geometric prior
of width ``prior_mm`` a candidate scores its log-confidence less ``0.5 (d / prior_mm)^2``, where
``d`` is how far it lies from where the anatomy is expected (a foramen: its distance from the
midline against the learnt lateral offset; a recess: its distance from the disc plane), so slices
that look alike are told apart by geometry, as a reader does. Each target is its map's peak on
the chosen slice, except the canal's five levels, which are decoded together down the spine
(``localiser.levels``; ``level_uncertain`` marks a doubtful one); below ``min_peak``, out of
order or outside the image a target is flagged, never guessed.
"""

from __future__ import annotations

import logging

import pandas as pd
from tqdm.auto import tqdm

from disc_grade.conditions import ConditionSpec
from disc_grade.dicom.geometry import SLICE_GEOMETRY_COLUMNS
from disc_grade.localiser.candidates import (
    candidate_units,
    choose_slices,
)
from disc_grade.localiser.data import from_grid_coords, series_grid
from disc_grade.localiser.levels import candidates, decode, uncertain
from disc_grade.localiser.model import confidences, peak_point, slice_logits
from disc_grade.rsna import LEVELS

logger = logging.getLogger(__name__)
SERIES_GEOMETRY = ["rows", "columns", "pixel_spacing_row", "pixel_spacing_col"]
TARGET_COLUMNS = [
    "study_id",
    "condition",
    "level",
    "series_id",
    "instance_number",
    "slice_rank",
    "x",
    "y",
    *SERIES_GEOMETRY,
    "peak",
    "own_x",
    "own_y",
    "level_uncertain",
]
MISSING_COLUMNS = ["study_id", "condition", "level", "reason"]
NO_SERIES = "no readable {series} series"
NOT_DECODABLE = "{series} series not decodable"
NOT_CONFIDENT = "no confident target (localiser peak below {min_peak:g})"
OUTSIDE = "target outside the image"
LEVEL_UNCERTAIN = "level uncertain: its point lies on another level's disc or out of order"


def study_slices(dicom_index: pd.DataFrame, series: pd.DataFrame, series_ids) -> pd.DataFrame:
    """Every readable slice of ``series_ids`` with its geometry and its rank in spatial order."""
    files = dicom_index[
        (dicom_index["status"] == "ok") & dicom_index["series_id"].isin(list(series_ids))
    ][["study_id", "series_id", "instance_number", *SLICE_GEOMETRY_COLUMNS]]
    order = series[series["series_id"].isin(list(series_ids))][["series_id", "instances_in_order"]]
    ranks = pd.DataFrame(
        [
            {"series_id": r.series_id, "instance_number": int(i), "slice_rank": k}
            for r in order.itertuples()
            for k, i in enumerate(r.instances_in_order)
        ],
        columns=["series_id", "instance_number", "slice_rank"],
    )
    return files.merge(ranks, on=["series_id", "instance_number"], how="inner")


def _maps(root, model, study_id, series_ids, order, grid_size) -> dict:
    """Per series: (logit maps [n, P, S, S], confidences [n, P]); None where not decodable."""
    out = {}
    for series_id in series_ids:
        try:
            grid = series_grid(root, study_id, series_id, list(order[series_id]), grid_size)
        except Exception as exc:  # noqa: BLE001 - the study is flagged, the run goes on
            logger.warning("study %s series %s not decodable: %s", study_id, series_id, exc)
            out[series_id] = None
            continue
        logits = slice_logits(model, grid)
        out[series_id] = (logits, confidences(logits))
    return out


def ordered_down_the_spine(peaks: list[tuple], min_peak: float) -> list[tuple]:
    """The confident levels' points sorted by height where the maps disagree with the spine's
    order (L1/L2 above L5/S1); a level without a confident point keeps its place. What a run
    without a learnt level spacing falls back to (``levels_together``)."""
    confident = [i for i, (_, _, peak) in enumerate(peaks) if peak >= min_peak]
    ordered = sorted((peaks[i] for i in confident), key=lambda p: p[1])
    out = list(peaks)
    for i, peak in zip(confident, ordered, strict=True):
        out[i] = peak
    return out


def levels_together(logit_maps, own_peaks, geometry, settings) -> tuple[list, list[bool]]:
    """The levels' points decoded together on their shared slice (``localiser.levels``): per
    level ``(gx, gy, confidence)`` or None (left out), and whether it is uncertain. Without a
    learnt spacing (``offsets.level_spacing_mm``) the levels are only put in order."""
    offsets = settings.get("offsets") or {}
    spacing = offsets.get("level_spacing_mm")
    if not spacing:
        ordered = ordered_down_the_spine(own_peaks, settings["min_peak"])
        return ordered, [False] * len(ordered)
    size = int(settings["grid_size"])
    mm_per_cell = (
        float(geometry["columns"] * geometry["pixel_spacing_col"] / size),
        float(geometry["rows"] * geometry["pixel_spacing_row"] / size),
    )
    # spines differ: never narrower than 15% of the spacing, whatever the training split shows
    spread = max(1.4826 * float(offsets.get("level_spacing_mad_mm") or 0.0), 0.15 * spacing)
    options = [candidates(m) for m in logit_maps]
    picked = decode(options, mm_per_cell, spacing, spread, settings["min_peak"])
    doubt = uncertain(picked, options, mm_per_cell, spacing, settings["min_peak"])
    points = [None if p is None else (p.gx, p.gy, p.conf) for p in picked]
    return points, doubt


def find_study_targets(spec, study_id, slices, maps, study_landmarks, geometry, settings):
    """The targets of one study with decoded maps: (target rows, missing rows)."""
    found, missing = [], []
    units = candidate_units(
        spec, slices, study_landmarks, settings["offsets"], settings["max_disc_distance_mm"]
    )
    for unit in units:
        side, own = unit["side"], unit["slices"]
        conditions = [c for c in spec.conditions if side in (None, spec.side_of_condition(c))]
        wanted = [(c, lv) for c in conditions for lv in unit["levels"]]
        if unit["reason"]:
            text = unit["reason"].format(series=spec.series, mm=settings["max_disc_distance_mm"])
            missing += [(study_id, c, lv, text) for c, lv in wanted]
            continue
        row_x = float(own["iop_0"].iloc[0])
        channels = [spec.channel(c, lv, row_x) for c, lv in wanted]
        chosen = choose_slices(spec, own, channels, maps, unit["deviation"], settings["prior_mm"])
        # a recess's map follows the chosen slice's own orientation (a series may be flipped)
        channels = [
            spec.channel(c, lv, float(r["iop_0"]))
            for (c, lv), r in zip(wanted, chosen, strict=True)
        ]
        logit_maps = [
            maps[r["series_id"]][0][int(r["slice_rank"]), k]
            for r, k in zip(chosen, channels, strict=True)
        ]
        own_peaks = [peak_point(m) for m in logit_maps]
        peaks, doubt = own_peaks, [False] * len(own_peaks)
        if spec.maps == "levels" and spec.slice_rule == "shared":
            g = geometry.loc[chosen[0]["series_id"]]
            peaks, doubt = levels_together(logit_maps, own_peaks, g, settings)
        for (condition, level), row, point, own, unsure in zip(
            wanted, chosen, peaks, own_peaks, doubt, strict=True
        ):
            if point is None:  # the joint decoding left the level out
                reason = LEVEL_UNCERTAIN if unsure else NOT_CONFIDENT.format(**settings)
                missing.append((study_id, condition, level, reason))
                continue
            gx, gy, peak = point
            g = geometry.loc[row["series_id"]]
            x, y = from_grid_coords(gx, gy, g["columns"], g["rows"], settings["grid_size"])
            own_x, own_y = from_grid_coords(
                own[0], own[1], g["columns"], g["rows"], settings["grid_size"]
            )
            target = {
                "study_id": study_id,
                "condition": condition,
                "level": level,
                "series_id": int(row["series_id"]),
                "instance_number": int(row["instance_number"]),
                "slice_rank": int(row["slice_rank"]),
                "x": float(x),
                "y": float(y),
                **{k: g[k] for k in SERIES_GEOMETRY},
                "peak": float(peak),
                "own_x": float(own_x),
                "own_y": float(own_y),
                "level_uncertain": bool(unsure),
            }
            if peak < settings["min_peak"]:
                missing.append((study_id, condition, level, NOT_CONFIDENT.format(**settings)))
            elif not (0 <= x <= g["columns"] - 1 and 0 <= y <= g["rows"] - 1):
                missing.append((study_id, condition, level, OUTSIDE))
            else:
                found.append(target)
    return found, missing


def find_targets(
    spec: ConditionSpec,
    model,
    root,
    chosen: pd.DataFrame,
    series: pd.DataFrame,
    dicom_index: pd.DataFrame,
    landmarks: pd.DataFrame,
    study_ids,
    settings: dict,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every target of every study found by the condition's localiser, and the others with why.

    Args:
        model: the condition's localiser, in eval mode.
        chosen: per study the condition's series (several rows for two axial series).
        landmarks: the canal points of the studies in patient mm (``alignment.landmarks``);
            unused by the canal itself.
        settings: ``grid_size``, ``min_peak``, ``prior_mm`` (None: confidence alone),
            ``max_disc_distance_mm`` and the learnt ``offsets`` (``lateral_mm``).

    Returns:
        (targets with ``TARGET_COLUMNS``; ``study_id, condition, level, reason`` of the others)
    """
    geometry = series.set_index("series_id")[SERIES_GEOMETRY]
    order = series.set_index("series_id")["instances_in_order"]
    found, missing = [], []
    for study_id in tqdm(list(study_ids), desc=f"{spec.name} targets", unit="study", disable=None):
        everything = [(study_id, c, lv) for c in spec.conditions for lv in LEVELS]
        own_series = chosen.loc[chosen["study_id"] == study_id, "series_id"].tolist()
        slices = study_slices(dicom_index, series, own_series) if own_series else pd.DataFrame()
        if slices.empty:
            missing += [(*key, NO_SERIES.format(series=spec.series)) for key in everything]
            continue
        maps = _maps(root, model, study_id, own_series, order, int(settings["grid_size"]))
        slices = slices[[maps.get(s) is not None for s in slices["series_id"]]]
        if slices.empty:
            missing += [(*key, NOT_DECODABLE.format(series=spec.series)) for key in everything]
            continue
        study_landmarks = landmarks[landmarks["study_id"] == study_id]
        rows, flags = find_study_targets(
            spec, study_id, slices, maps, study_landmarks, geometry, settings
        )
        found += rows
        missing += flags
    return (
        pd.DataFrame(found, columns=TARGET_COLUMNS),
        pd.DataFrame(missing, columns=MISSING_COLUMNS),
    )
