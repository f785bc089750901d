"""Assemble a phantom cohort in the RSNA 2024 layout: the three CSVs and the DICOM files.

The CSVs come straight from the study specs; the images are rendered lazily, study by study,
in worker processes, so memory stays flat however many studies are asked for.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from disc_grade.phantom.anatomy import (
    CONDITION_NAMES,
    CONDITIONS,
    LEVEL_NAMES,
    LEVELS,
    SEVERITIES,
    PhantomConfig,
    StudySpec,
    draw_cohort,
)
from disc_grade.phantom.dicom_writer import slice_dataset, to_bytes
from disc_grade.phantom.render import (
    canal_point,
    render_axial,
    render_sagittal_series,
    sagittal_slice_positions,
)

SAG_T2, SAG_T1, AX_T2 = "Sagittal T2/STIR", "Sagittal T1", "Axial T2"
SAGITTAL_ORIENTATION = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)  # rows run posterior, columns run down
AXIAL_ORIENTATION = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)  # rows run to patient left, columns posterior
AXIAL_FOV_MM = 180.0
AXIAL_SLICE_GAP_MM = 4.0
FORAMEN_OFFSET_MM = 15.0
SUBARTICULAR_OFFSET_MM = 9.0


def train_table(specs: list[StudySpec]) -> pd.DataFrame:
    """``train.csv``: study_id plus the 25 ``<condition>_<level>`` severity columns."""
    rows = []
    for spec in specs:
        row: dict[str, object] = {"study_id": spec.study_id}
        for condition in CONDITIONS:
            for level in LEVELS:
                column = f"{condition}_{level}"
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
        for d in (SAG_T2, SAG_T1, AX_T2)
        if not (d == SAG_T2 and s.missing_sagittal_t2)
    ]
    return pd.DataFrame(rows).astype({"study_id": "int64", "series_id": "int64"})


def instance_number(spec: StudySpec, spatial_index: int, n_slices: int) -> int:
    """Instance number of a sagittal slice; reversed against the spatial order as a quirk."""
    return n_slices - spatial_index if spec.reversed_instances else spatial_index + 1


def _nearest_slice(spec: StudySpec, n_slices: int, lr_mm: float) -> int:
    return int(np.argmin(np.abs(sagittal_slice_positions(spec, n_slices) - lr_mm)))


def _axial_geometry(spec: StudySpec, config: PhantomConfig) -> tuple[int, float]:
    size = max(64, int(round(spec.rows * 0.75 / 16) * 16))
    return size, AXIAL_FOV_MM / size


def coordinates_table(specs: list[StudySpec], config: PhantomConfig) -> pd.DataFrame:
    """``train_label_coordinates.csv``: spinal points on sagittal T2, foraminal on T1, subarticular on axial."""
    n = config.n_sagittal_slices
    rows = []
    for spec in specs:
        ps = spec.pixel_spacing
        ax_size, ax_ps = _axial_geometry(spec, config)
        for k, level in enumerate(LEVELS):
            x_mm, y_mm = canal_point(spec, k)
            entries = []
            if not spec.missing_sagittal_t2:
                entries.append(
                    (
                        "spinal_canal_stenosis",
                        SAG_T2,
                        instance_number(spec, _nearest_slice(spec, n, 0.0), n),
                        x_mm / ps,
                        y_mm / ps,
                    )
                )
            for side, sign in (("left", 1.0), ("right", -1.0)):
                entries.append(
                    (
                        f"{side}_neural_foraminal_narrowing",
                        SAG_T1,
                        instance_number(spec, _nearest_slice(spec, n, sign * FORAMEN_OFFSET_MM), n),
                        (x_mm - 0.3 * spec.canal_ap_mm) / ps,
                        y_mm / ps,
                    )
                )
                centre = (ax_size - 1) / 2
                entries.append(
                    (
                        f"{side}_subarticular_stenosis",
                        AX_T2,
                        k * config.n_axial_per_level + (config.n_axial_per_level - 1) // 2 + 1,
                        centre + sign * SUBARTICULAR_OFFSET_MM / ax_ps,
                        centre - 2.0 / ax_ps,
                    )
                )
            for condition, description, instance, x_px, y_px in entries:
                if f"{condition}_{level}" in spec.blank_cells:
                    continue
                rows.append(
                    {
                        "study_id": spec.study_id,
                        "series_id": spec.series_ids[description],
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


def render_study(spec: StudySpec, config: PhantomConfig) -> list[tuple[str, bytes]]:
    """Every DICOM file of one study as ``(relative path, bytes)``, relative to ``train_images``."""
    rng = np.random.default_rng([config.seed, spec.index, 1])
    n = config.n_sagittal_slices
    ps = spec.pixel_spacing
    origin_y = -(spec.columns - 1) * ps / 2
    origin_z = (spec.rows - 1) * ps / 2
    thickness = None if spec.missing_slice_thickness else 0.9 * spec.slice_spacing
    files: list[tuple[str, bytes]] = []

    sequences = [(SAG_T1, "T1")] if spec.missing_sagittal_t2 else [(SAG_T2, "T2"), (SAG_T1, "T1")]
    positions = sagittal_slice_positions(spec, n)
    for description, sequence in sequences:
        series_id = spec.series_ids[description]
        for i, pixels in enumerate(render_sagittal_series(spec, n, sequence, rng)):
            inst = instance_number(spec, i, n)
            ds = slice_dataset(
                pixels,
                study_id=spec.study_id,
                series_id=series_id,
                instance_number=inst,
                description=description,
                position=(float(positions[i]), origin_y, origin_z),
                orientation=SAGITTAL_ORIENTATION,
                pixel_spacing=ps,
                slice_thickness=thickness,
                spacing_between=spec.slice_spacing,
                rle=spec.rle_compressed,
            )
            files.append((f"{spec.study_id}/{series_id}/{inst}.dcm", to_bytes(ds)))

    size, ax_ps = _axial_geometry(spec, config)
    series_id = spec.series_ids[AX_T2]
    inst = 0
    for k in range(len(LEVELS)):
        x_mm, y_mm = canal_point(spec, k)
        canal_y, disc_z = origin_y + x_mm, origin_z - y_mm
        for j in range(config.n_axial_per_level):
            inst += 1
            z = disc_z + (j - (config.n_axial_per_level - 1) / 2) * AXIAL_SLICE_GAP_MM
            half = (size - 1) * ax_ps / 2
            ds = slice_dataset(
                render_axial(spec, k, size, ax_ps, rng),
                study_id=spec.study_id,
                series_id=series_id,
                instance_number=inst,
                description=AX_T2,
                position=(-half, canal_y - half, z),
                orientation=AXIAL_ORIENTATION,
                pixel_spacing=ax_ps,
                slice_thickness=None if spec.missing_slice_thickness else 4.0,
                spacing_between=AXIAL_SLICE_GAP_MM,
                rle=spec.rle_compressed,
            )
            files.append((f"{spec.study_id}/{series_id}/{inst}.dcm", to_bytes(ds)))
    return files


def _render_task(args: tuple[StudySpec, PhantomConfig]) -> list[tuple[str, bytes]]:
    return render_study(*args)


@dataclass
class PhantomImageStream:
    """Lazy iterable of ``(relative path, bytes)`` for every file of the cohort.

    Rendering runs in ``workers`` processes, one study at a time per worker, in study order.
    """

    specs: list[StudySpec]
    config: PhantomConfig
    workers: int = 1

    def iter_studies(self) -> Iterator[list[tuple[str, bytes]]]:
        """Yield each study's files, rendered in parallel and in study order."""
        tasks = [(spec, self.config) for spec in self.specs]
        if self.workers <= 1:
            yield from map(_render_task, tasks)
            return
        with mp.get_context("spawn").Pool(self.workers) as pool:
            yield from pool.imap(_render_task, tasks)

    def __iter__(self) -> Iterator[tuple[str, bytes]]:
        for study in self.iter_studies():
            yield from study


def write_cohort(root: Path, config: PhantomConfig, workers: int = 1) -> list[StudySpec]:
    """Write a cohort to ``root`` in the RSNA layout outside Kedro (tests, benchmarks); return its specs.

    ``train.csv`` is written last, so its presence marks a complete cohort.
    """
    from disc_grade.datasets import DicomTreeDataset

    specs, train, coordinates, series, images = make_cohort(config, workers=workers)
    root.mkdir(parents=True, exist_ok=True)
    coordinates.to_csv(root / "train_label_coordinates.csv", index=False)
    series.to_csv(root / "train_series_descriptions.csv", index=False)
    DicomTreeDataset(str(root / "train_images")).save(images)
    train.to_csv(root / "train.csv", index=False)
    return specs


def make_cohort(config: PhantomConfig, workers: int = 1):
    """Specs, the three CSV tables and a lazy image stream for ``config``."""
    specs = draw_cohort(config)
    return (
        specs,
        train_table(specs),
        coordinates_table(specs, config),
        series_table(specs),
        PhantomImageStream(specs, config, workers),
    )
