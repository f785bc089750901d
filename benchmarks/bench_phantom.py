"""Phantom generation speed: studies per second writing a 60-study, 320-px cohort.

Goal (foundation issue): 60 studies of 320 px in under a minute on the 2-core machine.
The baseline in the same run is the same cohort written by one process.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from disc_grade.phantom.anatomy import PhantomConfig
from disc_grade.phantom.cohort import write_cohort


def write(config: PhantomConfig, workers: int, root: Path) -> float:
    start = time.perf_counter()
    write_cohort(root, config, workers=workers)
    return time.perf_counter() - start


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--studies", type=int, default=60)
    parser.add_argument("--size", type=int, default=320)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--smoke", action="store_true", help="smallest size, for make test")
    args = parser.parse_args()
    if args.smoke:
        args.studies, args.size = 2, 96
    config = PhantomConfig(n_studies=args.studies, image_size=args.size)
    with tempfile.TemporaryDirectory() as tmp:
        parallel = write(config, args.workers, Path(tmp) / "parallel")
        files = sum(1 for _ in (Path(tmp) / "parallel").rglob("*.dcm"))
        single = write(config, 1, Path(tmp) / "single")
    print(f"phantom: {args.studies} studies of {args.size} px, {files} files")
    print(f"  {args.workers} workers: {parallel:.1f} s = {args.studies / parallel:.2f} studies/s")
    print(f"  1 worker (baseline): {single:.1f} s = {args.studies / single:.2f} studies/s")
    print(
        f"  speed-up x{single / parallel:.2f}; goal under 60 s: {'met' if parallel < 60 else 'MISSED'}"
    )
