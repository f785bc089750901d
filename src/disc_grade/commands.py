"""``disc-grade``: grade lumbar spine MRI studies with a trained model bundle, or export one.

    disc-grade grade INPUT... --out DIR [--models BUNDLE]
    disc-grade export --out DIR

Research use only: the grades are not a diagnosis. Training and evaluation stay Kedro
pipelines (``kedro run --pipelines=train``, ``make run``); ``python -m disc_grade`` runs them.
"""

from __future__ import annotations

import logging
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

import click

from disc_grade.shipping.contents import BundleError, package_version

DEFAULT_BUNDLE = Path("data/06_models/bundle")


def _fail(message: str) -> None:
    click.echo(f"disc-grade: error: {message}", err=True)
    sys.exit(2)


def _quiet_logs(verbose: bool) -> None:
    """Warnings only (every step with ``verbose``); Kedro's own logging set-up runs first."""
    logging.disable(logging.INFO)  # Kedro's note on which logging file it read
    import kedro.framework.project  # noqa: F401 - it configures logging on import

    logging.disable(logging.NOTSET)

    warnings.filterwarnings("ignore", message="One or more dataset names contain")
    for name in ("kedro", "disc_grade", "py.warnings"):
        logging.getLogger(name).setLevel(logging.INFO if verbose else logging.WARNING)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_version(), prog_name="disc-grade")
def main() -> None:
    """Grade lumbar spine degeneration (the five RSNA 2024 conditions) from MRI studies.

    Research use only: not a medical device; its grades are not a diagnosis.
    """


@main.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path),
    help="Folder for the outputs (created).",
)
@click.option(
    "--models",
    default=DEFAULT_BUNDLE,
    show_default=True,
    type=click.Path(path_type=Path),
    help="A model bundle folder (`make run` leaves one; `disc-grade export` writes one).",
)
@click.option(
    "--adapt-batchnorm/--no-adapt-batchnorm",
    default=None,
    help="Re-estimate the graders' BatchNorm statistics on these studies (default: as validation chose).",
)
@click.option(
    "--workers", default=0, show_default=True, help="Header-scan processes (0: every core)."
)
@click.option("-v", "--verbose", is_flag=True, help="Log every step.")
def grade(inputs, out, models, adapt_batchnorm, workers, verbose) -> None:
    """Grade every study under INPUT (one study, a folder of studies in the RSNA layout, or any
    DICOM export: nested, any file names, with or without a DICOMDIR).

    Studies and series are grouped by their UIDs; files that are not images are listed with
    their reason in files.csv, never fatal. OUT receives submission.csv (RSNA form, 25 rows a
    study), grades.csv, files.csv, studies.csv, run.json, index.html and one page per study
    (an earlier run's study pages and figures in OUT are removed).
    """
    from disc_grade.app.outputs import write_outputs
    from disc_grade.app.run import grade_inputs
    from disc_grade.datasets.model_bundle import load_bundle

    _quiet_logs(verbose)
    try:
        bundle = load_bundle(models)
    except BundleError as exc:
        _fail(str(exc))
    params = {
        "ingestion": {"workers": workers, "chunk_size": 256},
        "inference": {"series_descriptions": None, "adapt_batchnorm": adapt_batchnorm},
    }
    with tempfile.TemporaryDirectory(prefix="disc-grade-") as work:
        try:
            graded = grade_inputs(list(inputs), bundle, Path(work), params)
        except ValueError as exc:
            _fail(f"{exc}: give a folder holding DICOM studies")
        run = write_outputs(graded, out, bundle["metadata"], list(inputs))
    click.echo(
        f"graded {run['graded']} of {run['targets']} targets in {run['studies']} studies "
        f"({run['files_skipped']} of {run['files']} files skipped; files.csv says why); "
        f"open {out / 'index.html'}"
    )
    if run["warning"]:
        click.echo(f"WARNING: model {run['warning']}", err=True)


@main.command()
@click.option(
    "--out", required=True, type=click.Path(path_type=Path), help="Folder for the bundle."
)
@click.option(
    "--project",
    default=".",
    show_default=True,
    type=click.Path(path_type=Path),
    help="The trained project.",
)
def export(out, project) -> None:
    """Write the model bundle of the last training run (its `bundle` pipeline) to OUT: one
    self-describing folder to hand on (models, settings, training data's fingerprint, test
    figures, model card)."""
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    from disc_grade.datasets.model_bundle import load_bundle

    project = project.resolve()
    if not (project / "pyproject.toml").is_file():
        _fail(f"{project} is not the disc-grade project (no pyproject.toml): pass --project")
    bootstrap_project(project)
    try:
        with KedroSession.create(project_path=project) as session:
            session.run(pipeline_names=["bundle"])
    except Exception as exc:  # noqa: BLE001 - one line for the user, not a traceback
        _fail(
            f"could not build the bundle ({type(exc).__name__}: {exc}); train first with `make run`"
        )
    load_bundle(project / DEFAULT_BUNDLE)
    if out.resolve() != (project / DEFAULT_BUNDLE).resolve():
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(project / DEFAULT_BUNDLE, out)
    click.echo(f"model bundle written to {out} (model card: {out / 'README.md'})")


if __name__ == "__main__":
    main()
