"""The README's real-data commands, as written, on a cohort the phantom did not write.

The cohort (``tests/foreign.py``) has other ids, image sizes, scanners and header descriptions,
no marker and no sidecar, and a patient name, birth date and id in every file. Each command is
read from the README itself, its placeholder path replaced by the cohort's, and run in a tiny
copy of the project; afterwards no file the run wrote, and nothing it printed, may hold a patient
field.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml

from disc_grade.rsna import submission_targets
from tests.conftest import PROJECT_ROOT
from tests.foreign import PATIENT, patient_fields_in
from tests.project_copy import digests, merge, ran
from tests.readme_commands import as_user, readme_block, user_project

DOWNLOAD = "/path/to/rsna-2024-lumbar"  # the README's placeholders
TEST_IMAGES = "/path/to/test_images"
TRAIN_STAGES = {
    "ingestion",
    "split",
    "rois",
    "folds",
    "spinal",
    "foraminal",
    "subarticular",
    "joint",
    "report",
    "bundle",
}


def written_by_runs(project: Path) -> Path:
    """A folder of links to every file the runs wrote: not the copied sources, the input
    data or DVC's cache of it."""
    tracked = set(
        subprocess.run(
            ["git", "ls-files"], cwd=project, capture_output=True, text=True, check=True
        ).stdout.split()
    )
    view = project.parent / f"{project.name}_written"
    shutil.rmtree(view, ignore_errors=True)
    skip = (".git/", ".venv/", ".dvc/cache/", "data/01_raw/")
    for path in project.rglob("*"):
        rel = path.relative_to(project).as_posix()
        if not path.is_file() or rel in tracked or rel.startswith(skip) or path.is_symlink():
            continue
        (view / rel).parent.mkdir(parents=True, exist_ok=True)
        (view / rel).symlink_to(path)
    return view


def assert_no_patient_fields(project: Path, printed: str) -> None:
    files = written_by_runs(project)
    assert any(files.rglob("*.parquet")) and any(files.rglob("*.log")), "nothing was scanned"
    assert patient_fields_in(files) == []
    for tag, value in PATIENT.items():
        assert value not in printed, f"{tag} printed"


def test_the_foreign_cohort_carries_nothing_only_the_phantom_writes(foreign_cohort):
    import pydicom

    from disc_grade.provenance import PHANTOM_MARKER

    names = {p.name for p in foreign_cohort.rglob("*") if p.is_file() and p.suffix != ".dcm"}
    assert names == {
        "train.csv",
        "train_label_coordinates.csv",
        "train_series_descriptions.csv",
    }, f"{names} (no {PHANTOM_MARKER}, no sidecar)"
    headers = [pydicom.dcmread(p, stop_before_pixels=True) for p in foreign_cohort.rglob("*.dcm")]
    text = " ".join(
        str(h.get(t, "")) for h in headers for t in ("Manufacturer", "ManufacturerModelName")
    )
    assert "phantom" not in text.lower()
    sizes = {(int(h.Rows), int(h.Columns)) for h in headers}
    assert any(r != c for r, c in sizes) and max(max(s) for s in sizes) > 160
    assert {str(h.PatientName) for h in headers} == {PATIENT["PatientName"]}


@pytest.fixture(scope="module")
def trained(foreign_cohort, tmp_path_factory):
    """The README's real-data commands (``kedro run`` and ``make run``) in a project copy."""
    project = user_project(tmp_path_factory.mktemp("user") / "project")
    lines = readme_block("## Train on the RSNA download")
    assert [line.split()[:2] for line in lines] == [
        ["source", ".venv/bin/activate"],
        ["kedro", "run"],
        ["make", "run"],
    ]
    printed = as_user(project, lines, {DOWNLOAD: str(foreign_cohort)})
    return project, printed


@pytest.mark.e2e
def test_the_readmes_train_commands_run_on_a_foreign_cohort_with_the_defaults(trained):
    project, printed = trained
    source = json.loads((project / "data/08_reporting/data_source.json").read_text())
    assert not source["phantom"]
    splits = pd.read_parquet(project / "data/02_intermediate/study_splits.parquet")
    assert set(splits["split"]) == {"train", "validation", "test"}, "the default holds out nothing"
    assert "holding out sites none" in printed
    metrics = json.loads((project / "data/08_reporting/spinal/metrics.json").read_text())
    assert set(metrics) == {"contrastive", "scratch", "frozen"}
    for family in ("foraminal", "subarticular"):
        table = pd.read_parquet(project / f"data/07_model_output/{family}/predictions.parquet")
        assert len(table) > 0 and set(table["split"]) <= {"validation", "test"}
    report = (project / "data/08_reporting/report.md").read_text()
    assert "not written by the phantom" in report
    assert_no_patient_fields(project, printed)


@pytest.mark.e2e
def test_the_readmes_inference_command_grades_every_foreign_study(trained, foreign_cohort):
    project, _ = trained
    lines = readme_block("## Grade your own studies")
    assert len(lines) == 2 and lines[1].startswith("disc-grade grade ")
    images = project.parent / "test_images"  # new studies come without their CSVs
    shutil.copytree(foreign_cohort / "train_images", images)
    printed = as_user(project, lines, {TEST_IMAGES: str(images)})
    out = project / "graded"
    run = json.loads((out / "run.json").read_text())
    assert run["model"]["phantom"] is False and run["warning"] == ""  # trained on foreign data
    submission = pd.read_csv(out / "submission.csv")
    studies = sorted(int(p.name) for p in images.iterdir())
    expected = [f"{s}_{c}_{lv}" for s, c, lv in submission_targets(studies)]
    assert submission["row_id"].tolist() == expected
    grades = pd.read_csv(out / "grades.csv")
    # the tiny run's canal localiser is barely trained: levels it cannot count down the spine
    # are flagged (level uncertain) rather than graded at another disc, so fewer are graded
    assert grades["graded"].mean() > 0.3, grades["flag"].value_counts()
    assert (grades["graded"] | grades["flag"].fillna("").ne("")).all(), (
        "an ungraded target says why"
    )
    assert_no_patient_fields(project, printed)


@pytest.mark.e2e
def test_the_readmes_dvc_walk_through_on_a_foreign_cohort_never_touches_it(
    foreign_cohort, tmp_path
):
    download = tmp_path / "rsna-2024-lumbar"
    shutil.copytree(foreign_cohort, download)
    before = digests(download)
    project = user_project(tmp_path / "team")
    lines = readme_block("### The real download under DVC")
    activate, second = lines[0], lines[-1]
    assert activate == "source .venv/bin/activate" and second.startswith("dvc repro bundle")
    printed = as_user(project, lines[:-1], {DOWNLOAD: str(download)})
    assert ran(printed) == TRAIN_STAGES, "the first repro runs every train stage"
    assert ran(as_user(project, [activate, second], {})) == set(), "a second repro runs nothing"
    params = yaml.safe_load((project / "params.yaml").read_text())
    assert params["raw_root"] == "data/01_raw/rsna" and set(params["study"]) == {
        "condition",
        "fractions",
        "seeds",
    }, "the edit keeps every key dvc.yaml reads"
    assert params["ablation_condition"] == "spinal"
    source = json.loads((project / "data/08_reporting/data_source.json").read_text())
    assert source["raw_root"] == "data/01_raw/rsna" and not source["phantom"]

    path = project / "conf" / "base" / "parameters_conditions.yml"
    change = {"foraminal": {"finetuning": {"lr": 0.002}}}
    path.write_text(
        yaml.safe_dump(merge(yaml.safe_load(path.read_text()), change), sort_keys=False)
    )
    # what the README's repro would rerun (dry: the stages changed and everything below them;
    # running them is the same command as above, not paid for twice)
    again = as_user(project, [activate, f"{second} --dry --force-downstream"], {})
    rerun = {"folds", "foraminal", "joint", "report", "bundle"}
    assert ran(again) == rerun, "the others are untouched"
    running = [line for line in again.splitlines() if line.startswith("Running stage '")]
    cells = {line.split("'")[1] for line in running if "folds@" in line}
    assert cells == {"folds@foraminal-k0"}, "only the foramina's cells"
    # a change in the environment's folder re-runs every stage that reads the configuration
    (project / "conf" / "local" / "parameters_evaluation.yml").write_text(
        "evaluation:\n  n_resamples: 60\n"
    )
    # `dvc status` names every stage whose own dependencies changed: what the next repro reruns
    local = as_user(project, [activate, "dvc status --json"], {})
    changed = {name.split("@")[0] for name in json.loads(local.strip().splitlines()[-1])}
    assert TRAIN_STAGES <= changed, changed
    assert digests(project / "data/01_raw/rsna") == before, "a raw file changed"
    status = as_user(project, [activate, "dvc status data/01_raw/rsna.dvc"], {})
    assert "modified" not in status
    assert_no_patient_fields(project, printed + again + local)


@pytest.mark.e2e
def test_the_readmes_import_url_records_a_download_where_it_lies(foreign_cohort, tmp_path):
    import re

    text = (PROJECT_ROOT / "README.md").read_text()
    command = re.search(r"`(dvc import-url [^`]+)`", text).group(1)
    project = user_project(tmp_path / "team")
    before = digests(foreign_cohort)
    as_user(project, ["source .venv/bin/activate", command], {DOWNLOAD: str(foreign_cohort)})
    record = yaml.safe_load((project / "data/01_raw/rsna.dvc").read_text())
    assert record["deps"][0]["path"] == str(foreign_cohort)
    assert digests(project / "data/01_raw/rsna") == before == digests(foreign_cohort)
