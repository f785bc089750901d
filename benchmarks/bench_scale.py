"""What the real download costs: every data stage and inference at 1x, 2x and 4x studies.

On realistic-size phantom cohorts (``conf/realistic``: 320-1,024 px sagittal images, 15
sagittal slices, 5 axial slices per disc, about 55 files and 20 MB a study), each size in a
fresh process with the project's ``conf/base`` settings (2 workers where a stage has them):

- ingestion: the header scan and the series table;
- alignment: the canal's labels, the split, the foraminal and subarticular targets;
- ROIs: the canal's, the foramina's and the recesses' crops;
- inference: headers, series choice, the canal and family localisers, crops and grades of
  every study (untrained networks of the configured size: the cost, not the grades).

It prints seconds per study for each stage at each size (flat when a stage grows linearly; the
last column is the largest size's per-study time over the smallest's), each size's peak memory
(main process and its workers), and the projection for the real download: 1,975 studies,
about 147,000 files, at the largest size's per-study time, and per file. A stage whose
projection exceeds 30 minutes on 2 cores, or that grows faster than linearly (ratio above
1.5), is flagged. ``--smoke``: 2 and 3 studies, nothing flagged fails (``make test``).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks._inference import infer, project_context, untrained_models  # noqa: E402

REAL_STUDIES, REAL_FILES = 1975, 147_000
LIMIT_MIN = 30.0
STAGES = ("ingestion", "alignment", "rois", "inference")


def realistic_cohort(n_studies: int, seed: int) -> Path:
    """A realistic-size phantom cohort, written once per size and seed under /tmp."""
    from disc_grade.phantom.anatomy import PhantomConfig
    from disc_grade.phantom.cohort import write_cohort

    root = Path(tempfile.gettempdir()) / f"disc_grade_scale_{n_studies}_{seed}"
    if not (root / "train.csv").exists():
        cohort = project_context(env="realistic").params["phantom"]["cohort"]
        cohort = {**cohort, "n_studies": n_studies, "seed": seed}
        write_cohort(root, PhantomConfig.from_params(cohort), workers=2)
    return root


def measure(root: Path) -> dict:
    """Seconds per stage on the cohort at ``root``, in this process."""
    import pandas as pd

    from disc_grade.alignment.condition_targets import align_condition
    from disc_grade.conditions import CONDITION_NAMES
    from disc_grade.datasets import DicomTree
    from disc_grade.pipelines.condition.grade import crop_rois
    from disc_grade.pipelines.ingestion.nodes import scan_dicom_headers, summarise_series
    from disc_grade.pipelines.split.nodes import locate_landmarks, split_studies, training_priors

    tree = DicomTree(root / "train_images")
    context = project_context(tree.root)
    params = context.params
    csv = {
        name: pd.read_csv(root / f"{name}.csv", dtype={"study_id": "int64"})
        for name in ("train", "train_label_coordinates", "train_series_descriptions")
    }
    seconds: dict[str, float] = {}

    start = time.perf_counter()
    index = scan_dicom_headers(tree, params["ingestion"])
    series = summarise_series(index)
    seconds["ingestion"] = time.perf_counter() - start

    start = time.perf_counter()
    splits = split_studies(csv["train"], series, {}, params["split"])
    landmarks = locate_landmarks(csv["train_label_coordinates"], index)
    targets = {
        name: align_condition(
            csv["train"],
            csv["train_label_coordinates"],
            csv["train_series_descriptions"],
            series,
            index,
            splits,
            landmarks,
            name,
            params[name]["alignment"],
        )[0]
        for name in CONDITION_NAMES
    }
    seconds["alignment"] = time.perf_counter() - start

    start = time.perf_counter()
    n_rois = sum(
        len(crop_rois(rows, series, tree, params[name]["roi"])[0]) for name, rows in targets.items()
    )
    seconds["rois"] = time.perf_counter() - start

    priors = training_priors(csv["train"], splits)
    start = time.perf_counter()
    grades = infer(context, untrained_models(context, priors), tree)
    seconds["inference"] = time.perf_counter() - start
    return {
        "studies": int(csv["train"]["study_id"].nunique()),
        "files": len(index),
        "mb": sum(p.stat().st_size for p in tree.root.rglob("*.dcm")) / 2**20,
        "rois": n_rois,
        "targets_graded": int(grades["graded"].sum()),
        "seconds": seconds,
        "main_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "worker_peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def report(results: list[dict]) -> bool:
    """Print the table and the projection; whether every stage passes."""
    last = results[-1]
    sizes = " | ".join(f"{r['studies']} studies" for r in results)
    print(f"\nseconds per study (realistic phantom; {sizes}; 2 workers):")
    print(f"{'stage':<10} " + " ".join(f"{r['studies']:>9}" for r in results) + "   growth")
    ok = True
    projection = {}
    for stage in STAGES:
        per = [r["seconds"][stage] / r["studies"] for r in results]
        growth = per[-1] / per[0] if per[0] > 0 else float("nan")
        projection[stage] = per[-1] * REAL_STUDIES / 60
        flag = "" if growth <= 1.5 else "  (grows faster than linear)"
        ok &= growth <= 1.5
        print(f"{stage:<10} " + " ".join(f"{p:9.3f}" for p in per) + f"   x{growth:.2f}{flag}")
    print("\npeak memory (MB, main process / its workers):")
    for r in results:
        print(
            f"  {r['studies']:>4} studies, {r['files']:>6} files, {r['mb']:,.0f} MB: "
            f"{r['main_peak_mb']:,.0f} / {r['worker_peak_mb']:,.0f}"
        )
    files_per_study = last["files"] / last["studies"]
    print(
        f"\nprojection for the real download ({REAL_STUDIES:,} studies, ~{REAL_FILES:,} files; "
        f"the phantom has {files_per_study:.0f} files a study, the real data "
        f"{REAL_FILES / REAL_STUDIES:.0f}):"
    )
    for stage, minutes in projection.items():
        per_file = last["seconds"][stage] / last["files"] * REAL_FILES / 60
        flag = "" if max(minutes, per_file) <= LIMIT_MIN else f"  (over {LIMIT_MIN:.0f} min)"
        ok &= max(minutes, per_file) <= LIMIT_MIN
        print(f"  {stage:<10} {minutes:6.1f} min by studies, {per_file:6.1f} min by files{flag}")
    total = sum(projection.values())
    print(f"  {'all':<10} {total:6.1f} min by studies")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--studies", type=int, nargs="+", default=[30, 60, 120])
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--measure", type=str, help=argparse.SUPPRESS)  # one size, in a child
    parser.add_argument("--smoke", action="store_true", help="2 and 3 studies, no bound checked")
    args = parser.parse_args()
    if args.smoke:
        args.studies = [2, 3]
    if args.measure:
        print(json.dumps(measure(Path(args.measure))))
        return
    results = []
    for n in args.studies:
        root = realistic_cohort(n, args.seed)
        done = subprocess.run(
            [sys.executable, __file__, "--measure", str(root)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            sys.stderr.write(done.stderr[-4000:])
            raise SystemExit(f"measuring {n} studies failed")
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(f"{n} studies: {json.dumps(results[-1]['seconds'])}", flush=True)
    if not report(results) and not args.smoke:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
