"""kedro-viz: the static build opens on the train pipeline: the shared stages, each condition a
collapsed namespace, every dataset on a layer (headless Debian Chromium)."""

from __future__ import annotations

import functools
import http.server
import shutil
import subprocess
import sys
import threading

import pytest

from tests.conftest import PROJECT_ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOT = PROJECT_ROOT / "data" / "08_reporting" / "kedro_viz.png"


def test_every_catalog_dataset_sits_on_a_layer():
    import yaml

    catalog = yaml.safe_load((PROJECT_ROOT / "conf" / "base" / "catalog.yml").read_text())
    for name, entry in catalog.items():
        if name.startswith("_"):
            continue
        assert entry.get("metadata", {}).get("kedro-viz", {}).get("layer"), (
            f"{name} has no kedro-viz layer"
        )


@pytest.mark.e2e
@pytest.mark.skipif(
    CHROMIUM is None,
    reason="Debian's chromium is not installed (apt-get install chromium); .ci/run installs it",
)
def test_built_site_shows_the_train_pipeline(kedro_project):
    subprocess.run(
        [sys.executable, "-m", "kedro", "viz", "build"],
        cwd=kedro_project,
        check=True,
        capture_output=True,
        timeout=300,
    )
    site = kedro_project / "build"
    assert (site / "index.html").is_file() and (site / "api" / "main").is_file()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/", wait_until="networkidle")
            page.wait_for_selector(".pipeline-node", timeout=60_000)
            page.wait_for_timeout(1500)
            hint = page.locator(".feature-hints__close")
            if hint.count():  # the onboarding hint covers part of the graph
                hint.first.click()
                page.wait_for_timeout(4000)
            # the layer bands are drawn once the layout settles, which can lag the nodes
            page.wait_for_selector(".pipeline-layer-name", state="attached", timeout=60_000)
            page.wait_for_timeout(1000)
            labels = (
                " ".join(page.locator(".pipeline-node").all_text_contents())
                .lower()
                .replace("_", " ")
            )
            layers = (
                " ".join(page.locator(".pipeline-layer-name").all_text_contents())
                .lower()
                .replace("_", " ")
            )
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT))
            browser.close()
    finally:
        server.shutdown()
    for node in (
        "scan dicom headers",
        "split studies",
        "spinal",
        "foraminal",
        "subarticular",
        "write report",
    ):
        assert node in labels, f"'{node}' not shown"  # fmt: skip
    assert "align condition" not in labels, "the conditions open collapsed"
    # the top level shows the shared datasets; each condition's own (primary, feature, model
    # input, ...) open with its namespace
    for layer in ("raw", "intermediate", "models", "model output", "reporting"):
        assert layer in layers, f"layer '{layer}' not shown in {layers!r}"
    assert SCREENSHOT.stat().st_size > 30_000
