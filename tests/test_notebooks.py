"""The analysts' notebook runs on a tiny project's results and is stored without outputs."""

from __future__ import annotations

import json
import os

import pytest

from tests.conftest import PROJECT_ROOT, TINY_RUN_PARAMS, run_kedro

NOTEBOOK = PROJECT_ROOT / "notebooks" / "results.ipynb"


def test_the_notebook_is_stored_without_outputs():
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    assert code and all(not c["outputs"] and c["execution_count"] is None for c in code)
    assert any("%load_ext kedro.ipython" in "".join(c["source"]) for c in code)


@pytest.mark.e2e
def test_the_notebook_runs_on_a_tiny_projects_results(kedro_project, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    run_kedro(kedro_project, "phantom", TINY_RUN_PARAMS)
    run_kedro(kedro_project, "train", TINY_RUN_PARAMS)
    images = kedro_project / "data/01_raw/phantom/train_images"
    run_kedro(kedro_project, "inference", {**TINY_RUN_PARAMS, "input_root": str(images)})
    monkeypatch.setenv("DISC_GRADE_PROJECT", str(kedro_project))
    monkeypatch.setenv("KEDRO_DISABLE_TELEMETRY", "true")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(kedro_project)}},
    )
    client.execute(env={**os.environ})
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images_shown = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images_shown) == 3, "confusion matrix, ROI gallery, one study's figure"
    tables = "".join(o.get("data", {}).get("text/plain", "") for o in outputs)
    assert "spinal canal" in tables and "foraminal" in tables and "subarticular" in tables
