"""Peak memory of the data pipelines as the cohort grows (goal: flat, 50 vs 200 studies).

Each measurement runs header scan + series + alignment + ROI extraction in a fresh process and
reports that process's peak RSS plus its worker processes' peak.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks._cohort import cohort, read_csvs  # noqa: E402


def measure(root: Path, workers: int) -> dict:
    from disc_grade.alignment.labels import align_discs
    from disc_grade.datasets import DicomTree
    from disc_grade.dicom.extract import RoiSpec, extract_rois
    from disc_grade.dicom.headers import scan_headers
    from disc_grade.dicom.series import build_series_table

    images = root / "train_images"
    index = scan_headers(images, DicomTree(images).files(), workers=workers)
    series = build_series_table(index)
    discs, _ = align_discs(*read_csvs(root), series)
    rois, _, _ = extract_rois(images, discs, series, RoiSpec(96, 60.0, 3), workers)
    return {
        "files": len(index),
        "rois": len(rois),
        "roi_mb": rois.nbytes / 2**20,
        "main_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "worker_peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--image-size", type=int, default=256)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--child", type=str, default=None)
    parser.add_argument("--smoke", action="store_true", help="smallest size, for make test")
    args = parser.parse_args()
    if args.smoke:
        args.sizes, args.image_size = [2, 4], 96
    if args.child:
        print(json.dumps(measure(Path(args.child), args.workers)))
        sys.exit(0)
    results = {}
    for n in args.sizes:
        root = cohort(n, args.image_size)
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(root), "--workers", str(args.workers)],
            capture_output=True,
            text=True,
            check=True,
        )
        results[n] = json.loads(out.stdout.strip().splitlines()[-1])
        r = results[n]
        print(
            f"{n} studies: {r['files']} files, {r['rois']} ROIs ({r['roi_mb']:.1f} MB of output); "
            f"peak RSS main {r['main_peak_mb']:.0f} MB, worker {r['worker_peak_mb']:.0f} MB"
        )
    small, large = (results[n] for n in (min(args.sizes), max(args.sizes)))
    print(
        f"peak main RSS ratio {large['main_peak_mb'] / small['main_peak_mb']:.2f} for "
        f"{max(args.sizes) / min(args.sizes):.0f}x the studies; worker ratio "
        f"{large['worker_peak_mb'] / small['worker_peak_mb']:.2f}"
    )
