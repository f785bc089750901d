"""Where to grade the foramina and the lateral recesses of a new study.

Two ways, each giving every (study, condition, level) a target row or a reason:

``localise_targets`` runs the family's own localiser (``localiser.families``): heatmaps and
presence on every slice of the study's sagittal T1 (foramina) or axial T2 series (recesses);
the side of a sagittal slice and the level of an axial slice come from geometry.

``place_targets`` places the points by geometry from the canal points the canal localiser found
on sagittal T2, carried into patient coordinates (LPS mm), with offsets learnt from the labels:

- foramina: on the study's sagittal T1 series, the slice nearest ``lateral_mm`` to each side of
  the canal (side by patient x, never by instance order), at the canal point moved
  ``anterior_mm`` forward, projected into that slice;
- lateral recesses: on the study's axial T2 series (one or several), the slice whose plane lies
  nearest the disc (``dicom.axial_levels``), at the canal point moved ``lateral_mm`` to each side
  and ``anterior_mm`` forward, projected into that slice.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from disc_grade.alignment.families import family_conditions
from disc_grade.dicom.axial_levels import axial_slice_levels, disc_centres_mm
from disc_grade.dicom.geometry import SLICE_GEOMETRY_COLUMNS, patient_to_pixel, slice_normal
from disc_grade.dicom.laterality import sagittal_midline_x, side_of
from disc_grade.localiser.data import from_grid_coords, series_grid
from disc_grade.localiser.families import recess_channel
from disc_grade.localiser.model import confidences, peak_point, slice_logits
from disc_grade.rsna import LEVELS

logger = logging.getLogger(__name__)
SERIES_GEOMETRY = ["rows", "columns", "pixel_spacing_row", "pixel_spacing_col"]
NO_CANAL_POINT = "no canal point at this level on sagittal T2"
NO_SERIES = "no readable {description} series"
NO_SLICE_ON_SIDE = "no sagittal T1 slice on this side"
NO_AXIAL_SLICE = "no axial slice within {mm:g} mm of the disc"
OUTSIDE = "placed point outside the image"
NOT_CONFIDENT = "no confident {what} (localiser peak below {min_peak:g})"
NOT_DECODABLE = "{description} series not decodable"
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
]


def _slices(dicom_index: pd.DataFrame, series: pd.DataFrame, series_ids) -> pd.DataFrame:
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


def canal_centres(
    points: pd.DataFrame, series: pd.DataFrame, dicom_index: pd.DataFrame
) -> pd.DataFrame:
    """Patient coordinates of every found canal point (``study_id, level, px, py, pz``)."""
    found = points[points["status"] == "ok"]
    if found.empty:
        return pd.DataFrame(columns=["study_id", "level", "px", "py", "pz"])
    slices = _slices(dicom_index, series, set(found["series_id"]))
    located = found[["study_id", "series_id", "level", "slice_rank", "x", "y"]].merge(
        slices, on=["study_id", "series_id", "slice_rank"], how="inner"
    )
    spacing = series[["series_id", "pixel_spacing_row", "pixel_spacing_col"]]
    located = located.merge(spacing, on="series_id", how="left", validate="m:1")
    return disc_centres_mm(located).assign(study_id=located["study_id"].to_numpy())


def _target(study_id, condition, level, slice_row, geometry, point) -> dict:
    spacing = (geometry["pixel_spacing_row"], geometry["pixel_spacing_col"])
    position = (slice_row.ipp_x, slice_row.ipp_y, slice_row.ipp_z)
    orientation = [getattr(slice_row, f"iop_{i}") for i in range(6)]
    x, y = patient_to_pixel(point, position, orientation, spacing)
    return _pixel_target(study_id, condition, level, slice_row, geometry, x, y)


def _pixel_target(study_id, condition, level, slice_row, geometry, x, y, peak=np.nan) -> dict:
    return {
        "study_id": study_id,
        "condition": condition,
        "level": level,
        "series_id": int(slice_row.series_id),
        "instance_number": int(slice_row.instance_number),
        "slice_rank": int(slice_row.slice_rank),
        "x": x,
        "y": y,
        **{k: geometry[k] for k in SERIES_GEOMETRY},
        "peak": float(peak),
    }


def place_targets(
    family: str,
    canal: pd.DataFrame,
    chosen: pd.DataFrame,
    series: pd.DataFrame,
    dicom_index: pd.DataFrame,
    params: dict,
    study_ids,
    levels,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The family's targets for every study and level, and the ones it could not place.

    Args:
        canal: ``canal_centres`` of the studies.
        chosen: per study the family's series (``study_id``, ``series_id``; several rows for a
            study with two axial series).
        params: ``lateral_mm``, ``anterior_mm`` and, for the axial family, ``max_disc_distance_mm``.

    Returns:
        (targets with ``TARGET_COLUMNS``, ``study_id, condition, level, reason`` of the others)
    """
    description = "sagittal T1" if family == "foraminal" else "axial T2"
    lateral, anterior = float(params["lateral_mm"]), float(params["anterior_mm"])
    geometry = series.set_index("series_id")[SERIES_GEOMETRY]
    targets, missing = [], []
    for study_id in study_ids:
        own_series = chosen.loc[chosen["study_id"] == study_id, "series_id"].tolist()
        slices = _slices(dicom_index, series, own_series) if own_series else pd.DataFrame()
        own_canal = canal[canal["study_id"] == study_id]
        levelled = None
        if family == "subarticular" and not slices.empty and not own_canal.empty:
            levelled = axial_slice_levels(slices, own_canal, float(params["max_disc_distance_mm"]))
        for level in levels:
            found = own_canal[own_canal["level"] == level]
            for condition in family_conditions(family):
                key = {"study_id": study_id, "condition": condition, "level": level}
                sign = 1.0 if condition.startswith("left") else -1.0
                if slices.empty:
                    missing.append({**key, "reason": NO_SERIES.format(description=description)})
                    continue
                if found.empty:
                    missing.append({**key, "reason": NO_CANAL_POINT})
                    continue
                centre = found[["px", "py", "pz"]].to_numpy(dtype=float)[0]
                if family == "foraminal":
                    on_side = slices[
                        [side_of(x, centre[0]) == condition.split("_")[0] for x in slices["ipp_x"]]
                    ]
                    if on_side.empty:
                        missing.append({**key, "reason": NO_SLICE_ON_SIDE})
                        continue
                    distance = (on_side["ipp_x"] - (centre[0] + sign * lateral)).abs()
                    row = on_side.loc[distance.idxmin()]
                    point = centre + np.array([0.0, -anterior, 0.0])
                else:
                    own = levelled[levelled["level"] == level]
                    if own.empty:
                        reason = NO_AXIAL_SLICE.format(mm=float(params["max_disc_distance_mm"]))
                        missing.append({**key, "reason": reason})
                        continue
                    row = own.loc[own["distance_mm"].idxmin()]
                    point = centre + np.array([sign * lateral, -anterior, 0.0])
                    normal = slice_normal([row[f"iop_{i}"] for i in range(6)])
                    origin = row[["ipp_x", "ipp_y", "ipp_z"]].to_numpy(dtype=float)
                    point = point - ((point - origin) @ normal) * normal
                target = _target(
                    study_id, condition, level, row, geometry.loc[row.series_id], point
                )
                if _inside(target):
                    targets.append(target)
                else:
                    missing.append({**key, "reason": OUTSIDE})
    return (
        pd.DataFrame(targets, columns=TARGET_COLUMNS),
        pd.DataFrame(missing, columns=["study_id", "condition", "level", "reason"]),
    )


def _inside(target: dict) -> bool:
    return 0 <= target["x"] <= target["columns"] - 1 and 0 <= target["y"] <= target["rows"] - 1


def _series_maps(root, model, study_id, series_ids, order: pd.Series, grid_size):
    """Per series: logit maps [n, P, S, S] and confidences [n, P]; None where not decodable.
    ``order``: each series' instances in spatial order, by series_id."""
    out = {}
    for series_id in series_ids:
        try:
            grid = series_grid(root, study_id, series_id, list(order[series_id]), grid_size)
        except Exception as exc:  # noqa: BLE001 - the study is flagged, the run goes on
            logger.warning("study %s series %s not decodable: %s", study_id, series_id, exc)
            out[series_id] = None
            continue
        maps = slice_logits(model, grid)
        out[series_id] = (maps, confidences(maps))
    return out


def _confidence(found: dict, row, k: int) -> float:
    """The localiser's confidence for point ``k`` on the slice of ``row``."""
    return float(found[row.series_id][1][int(row.slice_rank), k])


def _slice_score(confidence, deviation_mm: np.ndarray, prior_mm: float | None) -> np.ndarray:
    """How good each candidate slice is: its confidence, or with a geometric prior of width
    ``prior_mm`` its log-confidence less ``0.5 (deviation / prior_mm)^2``."""
    confidence = np.asarray(confidence, dtype=float)
    if not prior_mm:
        return confidence
    return np.log(np.clip(confidence, 1e-6, 1.0)) - 0.5 * (np.asarray(deviation_mm) / prior_mm) ** 2


def localise_targets(
    family: str,
    model,
    grid_size: int,
    min_peak: float,
    root,
    canal: pd.DataFrame,
    chosen: pd.DataFrame,
    series: pd.DataFrame,
    dicom_index: pd.DataFrame,
    params: dict,
    study_ids,
    levels,
    slice_prior_mm: float | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The family's targets found by its localiser for every study and level, and the others.

    Args:
        model: the family's localiser (``localiser.families``), in eval mode.
        canal: ``canal_centres`` of the studies: the sagittal midline (foramina; without it the
            middle of the series) and the disc planes that give each axial slice its level.
        chosen: per study the family's series (several rows for two axial series).
        params: the learnt placement (``lateral_mm``; for the axial family
            ``max_disc_distance_mm``).
        slice_prior_mm: None: each slice is chosen by the localiser's confidence alone.
            Otherwise by its log-confidence less ``0.5 (d / slice_prior_mm)^2``, where ``d`` is
            how far the slice lies from where the anatomy is expected: for a foramen, its
            distance from the midline against the learnt ``lateral_mm``; for a recess, the
            slice's distance from the disc plane. Slices that look alike (neighbours through
            the same foramen or disc) are then told apart by geometry, as a reader does.

    Returns:
        (targets with ``TARGET_COLUMNS``, ``peak`` the localiser's confidence; ``study_id,
        condition, level, reason`` of the others)
    """
    description = "sagittal T1" if family == "foraminal" else "axial T2"
    what = "foramen on this side" if family == "foraminal" else "recess at this level"
    geometry = series.set_index("series_id")[SERIES_GEOMETRY]
    order = series.set_index("series_id")["instances_in_order"]
    conditions = family_conditions(family)
    lateral = float(params["lateral_mm"]) if family == "foraminal" and slice_prior_mm else 0.0
    targets, missing = [], []

    def flag(study_id, condition, level, reason):
        missing.append(
            {"study_id": study_id, "condition": condition, "level": level, "reason": reason}
        )

    def flag_all(study_id, reason, levels_flagged):
        for level in levels_flagged:
            for condition in conditions:
                flag(study_id, condition, level, reason)

    def add(study_id, condition, level, row, maps, channel):
        gx, gy, peak = peak_point(maps[int(row.slice_rank), channel])
        columns, rows = geometry.loc[row.series_id, "columns"], geometry.loc[row.series_id, "rows"]
        x, y = from_grid_coords(gx, gy, columns, rows, grid_size)
        target = _pixel_target(
            study_id, condition, level, row, geometry.loc[row.series_id], float(x), float(y), peak
        )
        if peak < min_peak:
            flag(study_id, condition, level, NOT_CONFIDENT.format(what=what, min_peak=min_peak))
        elif not _inside(target):
            flag(study_id, condition, level, OUTSIDE)
        else:
            targets.append(target)

    for study_id in tqdm(list(study_ids), desc=f"{family} localiser", unit="study"):
        own_series = chosen.loc[chosen["study_id"] == study_id, "series_id"].tolist()
        slices = _slices(dicom_index, series, own_series) if own_series else pd.DataFrame()
        if slices.empty:
            flag_all(study_id, NO_SERIES.format(description=description), levels)
            continue
        found = _series_maps(root, model, study_id, own_series, order, grid_size)
        slices = slices[[found.get(s) is not None for s in slices["series_id"]]]
        if slices.empty:
            flag_all(study_id, NOT_DECODABLE.format(description=description), levels)
            continue
        own_canal = canal[canal["study_id"] == study_id]
        if family == "foraminal":
            midline = (
                float(own_canal["px"].median())
                if not own_canal.empty
                else sagittal_midline_x(slices[["ipp_x", "ipp_y", "ipp_z"]].to_numpy(dtype=float))
            )
            sides = [side_of(x, midline) for x in slices["ipp_x"]]
            for level in levels:
                k = LEVELS.index(level)
                for condition in conditions:
                    on_side = slices[[s == condition.split("_")[0] for s in sides]]
                    if on_side.empty:
                        flag(study_id, condition, level, NO_SLICE_ON_SIDE)
                        continue
                    confidence = [_confidence(found, r, k) for r in on_side.itertuples()]
                    expected = (on_side["ipp_x"] - midline).abs() - lateral
                    score = _slice_score(confidence, expected.to_numpy(), slice_prior_mm)
                    best = on_side.iloc[int(np.argmax(score))]
                    add(study_id, condition, level, best, found[best.series_id][0], k)
            continue
        levelled = axial_slice_levels(slices, own_canal, float(params["max_disc_distance_mm"]))
        for level in levels:
            own = levelled[levelled["level"] == level]
            if own_canal.empty or level not in set(own_canal["level"]):
                reason = NO_CANAL_POINT
            elif own.empty:
                reason = NO_AXIAL_SLICE.format(mm=float(params["max_disc_distance_mm"]))
            else:
                reason = None
            if reason:
                flag_all(study_id, reason, [level])
                continue
            together = [
                (_confidence(found, r, 0) + _confidence(found, r, 1)) / 2 for r in own.itertuples()
            ]
            score = _slice_score(together, own["distance_mm"].to_numpy(), slice_prior_mm)
            best = own.iloc[int(np.argmax(score))]
            for condition in conditions:
                channel = recess_channel(condition.split("_")[0], float(best["iop_0"]))
                add(study_id, condition, level, best, found[best.series_id][0], channel)
    return (
        pd.DataFrame(targets, columns=TARGET_COLUMNS),
        pd.DataFrame(missing, columns=["study_id", "condition", "level", "reason"]),
    )
