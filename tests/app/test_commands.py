"""``disc-grade``'s errors are one line naming the problem and the fix, with a non-zero exit and
no traceback; every output of a phantom-trained bundle says so."""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from disc_grade.app.outputs import OUTPUTS, write_outputs
from disc_grade.app.run import Graded
from disc_grade.commands import main
from disc_grade.datasets.model_bundle import save_bundle
from disc_grade.rsna import PROB_COLUMNS
from disc_grade.shipping.contents import BUNDLE_FORMAT, PHANTOM_WARNING


def _meta(phantom: bool) -> dict:
    return {
        "format": BUNDLE_FORMAT,
        "package_version": "0.1.0",
        "trained_on": {"phantom": phantom, "description": "a test cohort", "n_studies": 3},
        "test_figures": {},
        "conditions": {},
    }


@pytest.fixture(autouse=True)
def _logging_restored():
    """The command quiets the project's loggers for its process; a test process goes on, so
    each test here gives them back as they were (other tests read INFO records)."""
    names = ("kedro", "disc_grade", "py.warnings")
    levels = {n: logging.getLogger(n).level for n in names}
    with warnings.catch_warnings():
        yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture
def bundle(tmp_path) -> Path:
    """A bundle without models: enough for the errors raised before any grading."""
    path = tmp_path / "bundle"
    save_bundle(
        {"metadata": _meta(True), "models": {}, "label_priors": pd.DataFrame({"a": [1]})}, path
    )
    return path


def _run(*args: str):
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output, result.output
    return result


def _one_line_error(result, *words: str) -> None:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("disc-grade: error:"), result.output
    for word in words:
        assert word in lines[0], lines[0]


def test_an_empty_folder_is_one_clear_error(bundle, tmp_path):
    (tmp_path / "empty").mkdir()
    _one_line_error(
        _run(
            "grade", str(tmp_path / "empty"), "--out", str(tmp_path / "o"), "--models", str(bundle)
        ),
        "no files under",
        "empty",
    )


def test_a_folder_without_dicom_is_one_clear_error(bundle, tmp_path):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.txt").write_text("not an image")
    _one_line_error(
        _run("grade", str(notes), "--out", str(tmp_path / "o"), "--models", str(bundle)),
        "no DICOM image",
    )


def test_a_missing_bundle_says_how_to_make_one(tmp_path):
    (tmp_path / "in").mkdir()
    result = _run(
        "grade",
        str(tmp_path / "in"),
        "--out",
        str(tmp_path / "o"),
        "--models",
        str(tmp_path / "none"),
    )
    _one_line_error(result, "no model bundle", "make run")


def test_a_bundle_of_another_format_is_refused(bundle, tmp_path):
    meta = json.loads((bundle / "metadata.json").read_text())
    (bundle / "metadata.json").write_text(json.dumps({**meta, "format": 99}))
    (tmp_path / "in").mkdir()
    result = _run(
        "grade", str(tmp_path / "in"), "--out", str(tmp_path / "o"), "--models", str(bundle)
    )
    _one_line_error(result, "format 99", "disc-grade export")


def test_help_names_both_commands():
    result = _run("--help")
    assert result.exit_code == 0 and "grade" in result.output and "export" in result.output
    assert "Research use only" in result.output


def _graded() -> Graded:
    rows = pd.DataFrame(
        {
            "study_id": [7, 7],
            "condition": ["spinal_canal_stenosis", "spinal_canal_stenosis"],
            "level": ["l1_l2", "l2_l3"],
            "level_name": ["L1/L2", "L2/L3"],
            "series_id": [1, None],
            "slice_rank": [0, None],
            "x": [1.0, None],
            "y": [1.0, None],
            "graded": [True, False],
            "grade": ["Severe", ""],
            **{c: [0.2, 0.3] for c in PROB_COLUMNS},
            "flag": ["", "no confident target"],
            "variant": ["contrastive", ""],
            "novelty": [1.0, 1.0],
            "unlike_training": [False, False],
        }
    )
    submission = pd.DataFrame(
        {
            "row_id": ["7_a", "7_b"],
            "normal_mild": [0.2] * 2,
            "moderate": [0.3] * 2,
            "severe": [0.5] * 2,
        }
    )
    files = pd.DataFrame({"input": ["in"], "path": ["x"], "status": ["read"], "reason": [""]})
    return Graded(rows, submission, files, {})


@pytest.mark.parametrize("phantom", [True, False])
def test_every_output_says_a_phantom_model_is_one(tmp_path, phantom):
    write_outputs(_graded(), tmp_path, _meta(phantom), [Path("in")])
    pages = [tmp_path / "7.html"]
    for name in [*OUTPUTS, *[p.name for p in pages]]:
        text = (tmp_path / name).read_text()
        assert (PHANTOM_WARNING in text) == phantom, name
    submission = pd.read_csv(tmp_path / "submission.csv", comment="#")
    assert list(submission.columns) == ["row_id", "normal_mild", "moderate", "severe"]
    page = (tmp_path / "7.html").read_text()
    assert "no confident target" in page  # what was not graded, and why


def test_a_second_run_into_the_same_folder_leaves_no_page_of_the_first(tmp_path):
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "99.png").write_bytes(b"old")
    (tmp_path / "99.html").write_text("an earlier run's study")
    (tmp_path / "notes.html").write_text("not a study page")
    write_outputs(_graded(), tmp_path, _meta(False), [Path("in")])
    assert sorted(p.name for p in tmp_path.glob("*.html")) == ["7.html", "index.html", "notes.html"]
    assert not (tmp_path / "figures" / "99.png").exists()
