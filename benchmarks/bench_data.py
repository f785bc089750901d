"""Data pipelines on the same files, as ratios against plain baselines in one run.

- header scan (``scan_headers``: the byte walker, pydicom where it declines) vs pydicom's own
  header-only read (``stop_before_pixels=True``, ``specific_tags``) of the same files on the
  same number of worker processes, the fair baseline; the walker stays while it is >= 2x;
- ROI extraction (``extract_rois``: labelled slice and neighbours only) vs decoding every slice
  of every sagittal series; goal >= 4x.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pydicom

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks._cohort import cohort, read_csvs  # noqa: E402
from disc_grade.alignment.labels import align_discs  # noqa: E402
from disc_grade.datasets import DicomTree  # noqa: E402
from disc_grade.dicom.extract import RoiSpec, extract_rois  # noqa: E402
from disc_grade.dicom.header_values import HEADER_TAGS, pydicom_values  # noqa: E402
from disc_grade.dicom.headers import scan_headers  # noqa: E402
from disc_grade.dicom.series import build_series_table  # noqa: E402


def _pydicom_headers(args: tuple[Path, list[str]]) -> int:
    root, relatives = args
    for relative in relatives:
        ds = pydicom.dcmread(root / relative, stop_before_pixels=True, specific_tags=HEADER_TAGS)
        pydicom_values(ds)  # the same values the index keeps
    return len(relatives)


def pydicom_header_scan(root: Path, files: list[str], workers: int, chunk: int = 256) -> int:
    """pydicom's header-only read of every file, chunked over ``workers`` processes like ours."""
    chunks = [(root, files[i : i + chunk]) for i in range(0, len(files), chunk)]
    if workers <= 1:
        return sum(map(_pydicom_headers, chunks))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return sum(pool.map(_pydicom_headers, chunks))


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--studies", type=int, default=60)
    parser.add_argument("--size", type=int, default=320)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--smoke", action="store_true", help="smallest size, for make test")
    args = parser.parse_args()
    if args.smoke:
        args.studies, args.size = 3, 96
    root = cohort(args.studies, args.size)
    images = root / "train_images"
    files = DicomTree(images).files()
    for path in files:  # warm the page cache for both contenders
        (images / path).read_bytes()

    _, plain = timed(lambda: pydicom_header_scan(images, files, args.workers))
    index, ours = timed(lambda: scan_headers(images, files, workers=args.workers))
    print(
        f"header scan, {len(files)} files of ~{args.size} px, {args.workers} worker processes each:"
    )
    print(
        f"  pydicom header-only (stop_before_pixels, specific_tags): {plain:.2f} s "
        f"({len(files) / plain:,.0f} files/s)"
    )
    print(f"  scan_headers (byte walker): {ours:.2f} s ({len(files) / ours:,.0f} files/s)")
    print(f"  ratio x{plain / ours:.1f} (the walker stays while >= 2)")

    series = build_series_table(index)
    train, coords, descriptions = read_csvs(root)
    discs, _ = align_discs(train, coords, descriptions, series)
    sagittal = series[series["plane"] == "sagittal"]

    def decode_all_sagittal():
        decoded = 0
        for row in sagittal.itertuples():
            for inst in row.instances_in_order:
                path = images / str(row.study_id) / str(row.series_id) / f"{inst}.dcm"
                decoded += pydicom.dcmread(path).pixel_array.size
        return decoded

    _, baseline = timed(decode_all_sagittal)
    (rois, _, _), extract = timed(
        lambda: extract_rois(images, discs, series, RoiSpec(96, 60.0, 3), args.workers)
    )
    n_slices = int(sagittal["n_slices"].sum())
    print(
        f"ROI extraction, {len(discs)} discs, {len(sagittal)} sagittal series ({n_slices} slices):"
    )
    print(f"  decode every sagittal slice: {baseline:.2f} s")
    print(f"  extract_rois ({args.workers} workers, 96 px): {extract:.2f} s -> {rois.shape}")
    print(f"  ratio x{baseline / extract:.1f} (goal >= 4)")
