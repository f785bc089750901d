"""Assemble a phantom cohort in the RSNA 2024 layout: the three CSVs and the DICOM files.

The CSVs come straight from the study specs; the images are rendered lazily, study by study,
in worker processes, so memory stays flat however many studies are asked for.
"""

from __future__ import annotations

import json
import multiprocessing as mp
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from disc_grade.phantom.anatomy import PhantomConfig, StudySpec, draw_cohort
from disc_grade.phantom.axial import render_axial
from disc_grade.phantom.axial_layout import AXIAL_SLICE_GAP_MM, axial_geometry, axial_slices
from disc_grade.phantom.dicom_writer import slice_dataset, to_bytes
from disc_grade.phantom.render import (
    render_sagittal_series,
    sagittal_slice_positions,
)
from disc_grade.phantom.sites import site_named
from disc_grade.phantom.tables import (
    SAGITTAL_ORIENTATION,
    SPLIT_SIDECAR,
    coordinates_table,
    instance_number,
    series_table,
    split_suggestion,
    train_table,
    truth_table,
)
from disc_grade.provenance import claim_for_phantom
from disc_grade.rsna import (
    AXIAL_T2,
    COORDINATES_CSV,
    IMAGES_DIR,
    SAGITTAL_T1,
    SAGITTAL_T2,
    SERIES_DESCRIPTIONS_CSV,
    TRAIN_CSV,
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

    sequences = [
        (description, sequence, spec.series_ids[description])
        for description, sequence, missing in (
            (SAGITTAL_T2, "T2", spec.missing_sagittal_t2),
            (SAGITTAL_T1, "T1", spec.missing_sagittal_t1),
        )
        if not missing
    ]
    if spec.second_sagittal_t1_series_id is not None:  # a repeat of the T1 series
        sequences.append((SAGITTAL_T1, "T1", spec.second_sagittal_t1_series_id))
    positions = sagittal_slice_positions(spec, n)
    for description, sequence, series_id in sequences:
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
                scanner_model=site_named(spec.site).model,
            )
            files.append((f"{spec.study_id}/{series_id}/{inst}.dcm", to_bytes(ds)))

    size, ax_ps = axial_geometry(spec)
    for axial in axial_slices(spec, config):
        pixels = render_axial(
            spec, axial.level_index, size, ax_ps, rng, axial.offset_mm, axial.between
        )
        ds = slice_dataset(
            pixels,
            study_id=spec.study_id,
            series_id=axial.series_id,
            instance_number=axial.instance_number,
            description=AXIAL_T2,
            position=axial.position,
            orientation=axial.orientation,
            pixel_spacing=ax_ps,
            slice_thickness=None if spec.missing_slice_thickness else 4.0,
            spacing_between=AXIAL_SLICE_GAP_MM,
            rle=spec.rle_compressed,
            scanner_model=site_named(spec.site).model,
        )
        path = f"{spec.study_id}/{axial.series_id}/{axial.instance_number}.dcm"
        files.append((path, to_bytes(ds)))
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

    claim_for_phantom(root)  # never over files the phantom did not write
    specs, train, coordinates, series, images = make_cohort(config, workers=workers)
    coordinates.to_csv(root / COORDINATES_CSV, index=False)
    series.to_csv(root / SERIES_DESCRIPTIONS_CSV, index=False)
    truth_table(specs, config).to_csv(root / "phantom_truth.csv", index=False)
    (root / SPLIT_SIDECAR).write_text(json.dumps(split_suggestion(config), indent=2) + "\n")
    DicomTreeDataset(str(root / IMAGES_DIR)).save(images)
    train.to_csv(root / TRAIN_CSV, index=False)
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
