"""Inference on one new study, model loading included (goal: under 5 s on the 2-core CPU machine).

Grades with the trained models of a `make run` (data/06_models) where they exist, else with
untrained networks of the configured sizes (the same cost; the output says which). Times, in this process, the project's
own ``inference`` pipeline (``kedro run --pipelines=inference``, ``benchmarks/_inference.py``) on
one study folder: reading every condition's models through the catalog, the header scan,
choosing the series, finding every condition's targets, cropping and grading them, and
assembling the 25 rows; the first (cold) call also pays the imports. Reference in the same run:
decoding every file of the study once (what a naive reader does before it grades anything). With
untrained networks it also times the study with three study-fold models averaged per condition
(what a run with ``split.n_folds: 3`` ships), as a ratio to the whole-split grader's time. How
well inference grades is in the report (each condition's end-to-end row: graded at its
localiser's points by the same grading function, against the labels of the test studies).

``--smoke``: one study of a tiny phantom, untrained models, no goal checked (``make test``).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pydicom

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._inference import (  # noqa: E402
    infer,
    model_inputs,
    model_inputs_missing,
    project_context,
    trained_models,
    untrained_models,
)

GOAL_S = 5.0
FOLD_MODELS = 3  # the study folds a run with `split.n_folds: 3` averages per condition


def grade_one(folder: Path, models_of) -> tuple:
    """The studies under ``folder`` graded from scratch, models read by ``models_of(context)``;
    the 25-row table and the seconds."""
    start = time.perf_counter()
    context = project_context(folder)
    table = infer(context, models_of(context))
    return table, time.perf_counter() - start


def phantom_study(tmp: Path, smoke: bool) -> tuple[Path, pd.DataFrame]:
    """One phantom study written under ``tmp`` (the conf/base cohort's settings; tiny for
    ``smoke``) and its training priors (the study as the training split)."""
    from disc_grade.phantom.anatomy import PhantomConfig
    from disc_grade.phantom.cohort import write_cohort
    from disc_grade.pipelines.split.nodes import training_priors

    root = tmp / "raw"
    settings = project_context().params["phantom"]["cohort"]
    if smoke:
        settings = {**settings, "image_size": 96, "n_sagittal_slices": 5}
    write_cohort(root, PhantomConfig.from_params({**settings, "n_studies": 1, "seed": 3}))
    train = pd.read_csv(root / "train.csv", dtype={"study_id": "int64"})
    priors = training_priors(train, train[["study_id"]].assign(split="train"))
    return next(p for p in sorted((root / "train_images").iterdir()) if p.is_dir()), priors


def sources(args, tmp: Path) -> tuple[Path, object, str, object]:
    """The study to grade, how to read the models, what they are, and how to read them with
    ``FOLD_MODELS`` study-fold models averaged per condition (None for trained models, which
    ship what their run shipped): ``make run``'s trained models and a study of its phantom
    where they exist (not with ``--smoke``), else untrained networks of the configured sizes
    (the same cost) on a phantom study written here."""
    trained = not (args.smoke or args.untrained) and not model_inputs_missing(project_context())
    images = ROOT / "data" / "01_raw" / "phantom" / "train_images"
    if args.study:
        source = Path(args.study)
    elif trained and images.is_dir():
        source = next(p for p in sorted(images.iterdir()) if p.is_dir())
    else:
        source, priors = phantom_study(tmp, args.smoke)
    if trained:
        return source, trained_models, "the trained models of data/06_models", None
    if args.study:
        raise SystemExit("--study needs the trained models of a `make run`")
    return (
        source,
        (lambda context: untrained_models(context, priors)),
        (
            "untrained networks of the configured sizes (no `make run` yet: the cost, not the grades)"
        ),
        (lambda context: untrained_models(context, priors, FOLD_MODELS)),
    )


def shipped_folds() -> str:
    """How many study-fold models each condition's trained grader averages (only the
    ``fold_graders`` entries read through the catalog, not every model again)."""
    context = project_context()
    catalog = context.catalog  # built anew on every access of the property: once here
    counts = {
        name.split(".")[0]: len((catalog.load(name) or {}).get("folds") or {})
        for name in model_inputs(context)
        if name.endswith(".fold_graders")
    }
    return ", ".join(f"{c} {n or 'none (the whole-split grader)'}" for c, n in counts.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--study", type=str, default=None, help="a study folder; default: the first phantom study"
    )
    parser.add_argument("--smoke", action="store_true", help="tiny phantom, untrained, no goal")
    parser.add_argument(
        "--untrained",
        action="store_true",
        help="untrained networks even where a `make run` trained some (times the fold models)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        source, models_of, what, folds_of = sources(args, Path(tmp))
        folder = Path(tmp) / "test_images"
        shutil.copytree(source, folder / source.name)
        start = time.perf_counter()
        grade_one(folder, models_of)  # cold: imports and first-call set-up
        cold = time.perf_counter() - start
        table, seconds = grade_one(folder, models_of)
        folded = grade_one(folder, folds_of) if folds_of is not None else None
        start = time.perf_counter()
        pixels = [pydicom.dcmread(p).pixel_array for p in sorted(folder.rglob("*.dcm"))]
        naive = time.perf_counter() - start
    print(f"models: {what}")
    verdict = "meets" if seconds < GOAL_S else "MISSES"
    print(
        f"one study ({source.name}, {len(pixels)} files): {int(table['graded'].sum())}/"
        f"{len(table)} targets graded in {seconds:.2f} s with model loading "
        f"({verdict} the goal of {GOAL_S:.0f} s)"
    )
    print(f"cold first call, imports included: {cold:.2f} s")
    if folded is None:
        print(f"study-fold models averaged per condition: {shipped_folds()}")
    else:
        print(
            f"the same study with {FOLD_MODELS} study-fold models averaged per condition (what "
            f"`split.n_folds: {FOLD_MODELS}` ships): {folded[1]:.2f} s, "
            f"{folded[1] / seconds:.2f}x the whole-split grader's"
        )
        if len(folded[0]) != 25:
            raise SystemExit(f"inference with fold models returned {len(folded[0])} rows, not 25")
    print(f"reference, decoding every file of the study once: {naive:.2f} s")
    if len(table) != 25:
        raise SystemExit(f"inference returned {len(table)} rows for one study, not 25")
    if seconds >= GOAL_S and not args.smoke:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
