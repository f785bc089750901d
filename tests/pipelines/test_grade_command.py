"""``disc-grade grade`` on the shared trained run's bundle, moved where there is no ``conf/`` and no
``data/``: the RSNA layout graded as the Kedro inference pipeline grades it, a PACS-style export
of three studies graded whole, pages that open in a browser, the phantom warning everywhere."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pydicom
import pytest

from disc_grade.rsna import PROB_COLUMNS
from disc_grade.shipping.contents import PHANTOM_WARNING
from tests.browser import chromium, launch

pytestmark = pytest.mark.e2e
KEYS = ["study_id", "condition", "level"]


def grade(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """``disc-grade grade ARGS`` as a user runs it, from ``cwd``."""
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"}
    command = [sys.executable, "-m", "disc_grade.commands", "grade", *args]
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def elsewhere(trained, tmp_path_factory) -> Path:
    """A folder holding only a copy of the run's bundle (no conf/, no data/)."""
    root = tmp_path_factory.mktemp("elsewhere")
    shutil.copytree(trained.data / "06_models/bundle", root / "bundle")
    return root


def test_the_rsna_layout_grades_as_the_kedro_pipeline(trained, elsewhere):
    images = trained.data / "01_raw/phantom/train_images"
    grade(elsewhere, str(images), "--out", "out", "--models", "bundle")
    ours = pd.read_csv(elsewhere / "out/grades.csv").sort_values(KEYS, ignore_index=True)
    kedro = pd.read_csv(trained.inference / "grades.csv").sort_values(KEYS, ignore_index=True)
    assert ours[KEYS].equals(kedro[KEYS])
    np.testing.assert_allclose(ours[PROB_COLUMNS], kedro[PROB_COLUMNS], atol=1e-6)
    assert (ours["grade"].fillna("") == kedro["grade"].fillna("")).all()
    submission = pd.read_csv(elsewhere / "out/submission.csv", comment="#")
    pd.testing.assert_frame_equal(
        submission, pd.read_csv(trained.inference / "submission.csv"), atol=1e-6
    )
    assert not (elsewhere / "conf").exists() and not (elsewhere / "data").exists()


def _pacs_export(images: Path, studies: list[int], root: Path) -> dict[str, int]:
    """The studies as a viewer's CD export: UID-named folders, files named by their SOP
    instance, the first two studies in one folder, the third nested deeper, a DICOMDIR, a text
    file, a DICOM without pixels. Returns each image's path -> its study."""
    owner = {}
    for k, study in enumerate(studies):
        for path in sorted((images / str(study)).rglob("*.dcm")):
            ds = pydicom.dcmread(path)
            folder = root / ("PATIENT" if k < 2 else "CD/DICOM/DEEPER") / ds.SeriesInstanceUID
            target = folder / ds.SOPInstanceUID
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            owner[str(target.relative_to(root))] = study
    shutil.copyfile(path, root / "DICOMDIR")  # a DICOMDIR by its name, whatever it holds
    (root / "README.TXT").write_text("exported by a viewer")
    report = pydicom.dcmread(path)
    del report.PixelData, report.Rows, report.Columns
    report.save_as(root / "PATIENT" / "SR0001")
    return owner


def test_a_pacs_export_of_three_studies_is_graded_whole(trained, elsewhere, tmp_path):
    images = trained.data / "01_raw/phantom/train_images"
    studies = sorted(int(p.name) for p in images.iterdir() if p.is_dir())[:3]
    owner = _pacs_export(images, studies, tmp_path / "EXPORT")
    rsna = tmp_path / "rsna"
    for study in studies:
        shutil.copytree(images / str(study), rsna / str(study))
    grade(
        elsewhere, str(tmp_path / "EXPORT"), "--out", str(tmp_path / "pacs"), "--models", "bundle"
    )
    grade(elsewhere, str(rsna), "--out", str(tmp_path / "plain"), "--models", "bundle")

    files = pd.read_csv(tmp_path / "pacs/files.csv")
    written = [p for p in (tmp_path / "EXPORT").rglob("*") if p.is_file()]
    assert len(files) == len(written) == len(owner) + 3  # every file listed
    skipped = files.set_index("path")["reason"]
    assert {"DICOMDIR", "README.TXT", "PATIENT/SR0001"} == set(
        skipped[files.set_index("path")["status"] == "skipped"].index
    )
    # map the exported studies' hashed ids back to the studies they are
    read = files[files["status"] == "read"]
    to_study = {sid: {owner[p] for p in rows["path"]} for sid, rows in read.groupby("study_id")}
    assert all(len(v) == 1 for v in to_study.values()) and len(to_study) == 3
    pacs = pd.read_csv(tmp_path / "pacs/grades.csv")
    pacs["study_id"] = pacs["study_id"].map({k: v.pop() for k, v in to_study.items()})
    plain = pd.read_csv(tmp_path / "plain/grades.csv")
    assert len(pacs) == len(plain) == 75  # all 25 targets of each study, none missing
    both = pacs.merge(plain, on=KEYS, suffixes=("_pacs", "_plain"))
    assert len(both) == 75
    for column in PROB_COLUMNS:
        np.testing.assert_allclose(both[f"{column}_pacs"], both[f"{column}_plain"], atol=1e-6)

    out = tmp_path / "pacs"
    for name in (
        "grades.csv",
        "studies.csv",
        "files.csv",
        "submission.csv",
        "run.json",
        "index.html",
    ):
        assert PHANTOM_WARNING in (out / name).read_text(), name
    pages = sorted(out.glob("[0-9]*.html"))
    assert len(pages) == 3
    _pages_open_in_a_browser(out, pages)


def _pages_open_in_a_browser(out: Path, pages: list[Path]) -> None:
    chromium()  # skips where Chromium is missing (fails under CI)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page()
        page.goto((out / "index.html").as_uri())
        assert page.locator("#studies tbody tr").count() == 3
        assert page.locator("#bundle-warning").is_visible()
        for study in pages:
            page.goto(study.as_uri())
            assert page.locator("#bundle-warning").is_visible()
            image = page.locator("img").first
            assert image.evaluate("i => i.complete && i.naturalWidth > 100")
            assert page.locator("table").first.locator("tbody tr").count() >= 1
        browser.close()
