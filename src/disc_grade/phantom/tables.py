"""The three CSVs of a phantom cohort in the RSNA 2024 layout, straight from the study specs.

Also the geometry they share with the rendered images: which instance holds a labelled point,
and the axial series' size.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from disc_grade.phantom.anatomy import PhantomConfig, StudySpec
from disc_grade.phantom.axial_layout import axial_geometry, axial_slices, labelled_axial_slice
from disc_grade.phantom.reader import ReaderModel
from disc_grade.phantom.render import canal_point, sagittal_slice_positions
from disc_grade.phantom.sites import site_named
from disc_grade.rsna import (
    AXIAL_T2,
    CONDITION_NAMES,
    CONDITIONS,
    LEVEL_NAMES,
    LEVELS,
    PROB_COLUMNS,
    SAGITTAL_T1,
    SAGITTAL_T2,
    SEVERITIES,
    SPINAL,
    condition_family,
    label_column,
)

SAGITTAL_ORIENTATION = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)  # rows run posterior, columns run down
SUBARTICULAR_ANTERIOR_MM = 2.0  # and how far in front of the canal's centre they lie
SPLIT_SIDECAR = "phantom_split.json"  # the sites the phantom suggests holding out


def split_suggestion(config: PhantomConfig) -> dict:
    """``phantom_split.json``: the scanner models whose studies the phantom would hold out.

    The split follows it while ``alignment.split.holdout_sites`` is null; data the phantom did
    not write has no such file, so nothing is held out there unless the setting names sites.
    """
    return {
        "holdout_sites": [site_named(name).model for name in config.holdout_sites],
        "written_by": "disc-grade phantom (phantom.cohort.holdout_sites)",
    }


def train_table(specs: list[StudySpec]) -> pd.DataFrame:
    """``train.csv``: study_id plus the 25 ``<condition>_<level>`` severity columns."""
    rows = []
    for spec in specs:
        row: dict[str, object] = {"study_id": spec.study_id}
        for condition in CONDITIONS:
            for level in LEVELS:
                column = label_column(condition, level)
                blank = column in spec.blank_cells
                row[column] = None if blank else SEVERITIES[spec.severity[condition][level]]
        rows.append(row)
    table = pd.DataFrame(rows)
    table["study_id"] = table["study_id"].astype("int64")
    return table


def series_table(specs: list[StudySpec]) -> pd.DataFrame:
    """``train_series_descriptions.csv``: one row per rendered series."""
    rows = [
        {"study_id": s.study_id, "series_id": s.series_ids[d], "series_description": d}
        for s in specs
        for d in (SAGITTAL_T2, SAGITTAL_T1, AXIAL_T2)
        if not (d == SAGITTAL_T2 and s.missing_sagittal_t2)
        and not (d == SAGITTAL_T1 and s.missing_sagittal_t1)
    ]
    rows += [  # a repeated sagittal T1 series (the labels point at the first)
        {
            "study_id": s.study_id,
            "series_id": s.second_sagittal_t1_series_id,
            "series_description": SAGITTAL_T1,
        }
        for s in specs
        if s.second_sagittal_t1_series_id is not None
    ]
    rows += [  # the studies whose lower levels come in a second axial series
        {
            "study_id": s.study_id,
            "series_id": s.second_axial_series_id,
            "series_description": AXIAL_T2,
        }
        for s in specs
        if s.second_axial_series_id is not None
    ]
    return pd.DataFrame(rows).astype({"study_id": "int64", "series_id": "int64"})


def instance_number(spec: StudySpec, spatial_index: int, n_slices: int) -> int:
    """Instance number of a sagittal slice; reversed against the spatial order as a quirk."""
    return n_slices - spatial_index if spec.reversed_instances else spatial_index + 1


def nearest_slice(spec: StudySpec, n_slices: int, lr_mm: float) -> int:
    return int(np.argmin(np.abs(sagittal_slice_positions(spec, n_slices) - lr_mm)))


def coordinates_table(specs: list[StudySpec], config: PhantomConfig) -> pd.DataFrame:
    """``train_label_coordinates.csv``: spinal points on sagittal T2, foraminal on T1, subarticular on axial."""
    n = config.n_sagittal_slices
    rows = []
    for spec in specs:
        ps = spec.pixel_spacing
        ax_size, ax_ps = axial_geometry(spec)
        axial = axial_slices(spec, config)
        for k, level in enumerate(LEVELS):
            x_mm, y_mm = canal_point(spec, k)
            entries = []
            if not spec.missing_sagittal_t2:
                entries.append(
                    (
                        SPINAL,
                        spec.series_ids[SAGITTAL_T2],
                        instance_number(spec, nearest_slice(spec, n, 0.0), n),
                        x_mm / ps,
                        y_mm / ps,
                    )
                )
            for side, sign, lateral in (
                ("left", 1.0, spec.foramen_lateral_mm[0]),
                ("right", -1.0, spec.foramen_lateral_mm[1]),
            ):
                if not spec.missing_sagittal_t1:
                    entries.append(
                        (
                            f"{side}_neural_foraminal_narrowing",
                            spec.series_ids[SAGITTAL_T1],
                            instance_number(spec, nearest_slice(spec, n, sign * lateral), n),
                            (x_mm - 0.3 * spec.canal_ap_mm) / ps,
                            y_mm / ps,
                        )
                    )
                centre = (ax_size - 1) / 2
                marked = labelled_axial_slice(axial, k)
                entries.append(
                    (
                        f"{side}_subarticular_stenosis",
                        marked.series_id,
                        marked.instance_number,
                        centre + sign * spec.recess_lateral_mm / ax_ps,
                        centre - SUBARTICULAR_ANTERIOR_MM / ax_ps,
                    )
                )
            for condition, series, instance, x_px, y_px in entries:
                if label_column(condition, level) in spec.blank_cells:
                    continue
                rows.append(
                    {
                        "study_id": spec.study_id,
                        "series_id": series,
                        "instance_number": int(instance),
                        "condition": CONDITION_NAMES[condition],
                        "level": LEVEL_NAMES[level],
                        "x": round(float(x_px), 4),
                        "y": round(float(y_px), 4),
                    }
                )
    return pd.DataFrame(rows).astype(
        {"study_id": "int64", "series_id": "int64", "instance_number": "int64"}
    )


def _visible(spec: StudySpec, condition: str, k: int) -> float:
    """The width a condition's structure loses in the image (canal, foramen or recess)."""
    if condition == SPINAL:
        return spec.canal_narrowing[k]
    side, family = condition.split("_")[0], condition_family(condition)
    by_side = spec.foraminal_narrowing if family == "foraminal" else spec.recess_narrowing
    return by_side[side][k]


def truth_table(specs: list[StudySpec], config: PhantomConfig) -> pd.DataFrame:
    """``phantom_truth.csv``: per study, condition and level its site, latent, visible
    compromise and grade; the canal's rows first.

    Also the grade probabilities given the latent (the reader's noise integrated, with each
    family's thresholds), from which evaluation computes the Bayes ceiling. No pipeline trains
    on this table.
    """
    tables = []
    for condition in CONDITIONS:
        reader = ReaderModel.from_prior(
            config.prior_of(condition_family(condition)), config.reader_noise
        )
        rows = [
            {
                "study_id": spec.study_id,
                "level": level,
                "condition": condition,
                "site": spec.site,
                "latent": spec.latent[condition][level],
                "compromise": _visible(spec, condition, k),
                "grade": spec.severity[condition][level],
                "narrow_canal": spec.canal_ap_mm < 12.0,
                "slip": spec.slip_mm > 0,
                "endplate_change": spec.endplate_change[k],
            }
            for spec in specs
            for k, level in enumerate(LEVELS)
        ]
        table = pd.DataFrame(rows).astype({"study_id": "int64"})
        probs = reader.probabilities(table["latent"].to_numpy())
        for k, column in enumerate(PROB_COLUMNS):
            table[column] = probs[:, k]
        tables.append(table)
    return pd.concat(tables, ignore_index=True)
