"""kedro-viz: the static build opens on the train pipeline: the shared stages, each condition a
collapsed namespace, every dataset on a layer (headless Debian Chromium)."""

from __future__ import annotations

import functools
import http.server
import re
import subprocess
import sys
import threading

import pytest

from tests.browser import chromium, launch
from tests.conftest import PROJECT_ROOT

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


def _layer(name: str, catalog: dict) -> str | None:
    """The kedro-viz layer of dataset ``name``: its entry, else the most specific factory that
    matches it (Kedro's rule: the most literal characters)."""
    import parse

    if name in catalog:
        return catalog[name]["metadata"]["kedro-viz"]["layer"]
    factories = [p for p in catalog if "{" in p and parse.parse(p, name) is not None]
    if not factories:
        return None
    best = max(factories, key=lambda p: len(re.sub(r"\{.*?\}", "", p)))
    return catalog[best]["metadata"]["kedro-viz"]["layer"]


def test_the_layers_follow_the_pipelines_without_a_cycle():
    """kedro-viz draws no layer at all when one layer feeds an earlier one."""
    import graphlib

    import yaml
    from kedro.framework.project import configure_project, pipelines

    configure_project("disc_grade")
    catalog = yaml.safe_load((PROJECT_ROOT / "conf" / "base" / "catalog.yml").read_text())
    graph: dict[str, set[str]] = {}
    for node in pipelines["__default__"].nodes:
        inputs = {_layer(i, catalog) for i in node.inputs if not i.startswith("params:")}
        for output in node.outputs:
            after = _layer(output, catalog)
            graph.setdefault(after, set()).update(i for i in inputs if i and i != after)
    graph.pop(None, None)
    order = list(graphlib.TopologicalSorter(graph).static_order())  # raises on a cycle
    assert order.index("raw") < order.index("models") < order.index("reporting"), order


@pytest.mark.e2e
def test_built_site_shows_the_train_pipeline(kedro_project):
    chromium()  # skips where Chromium is missing (fails under CI), before the build
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
            browser = launch(p)
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
            n_nodes = page.locator(".pipeline-node").count()
            zoom = page.locator(".pipeline-minimap-toolbar__scale").first.inner_text()
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
        "make bundle",
    ):
        assert node in labels, f"'{node}' not shown"
    assert "align condition" not in labels, "the conditions open collapsed"
    # the first screen is readable: each condition hands the report a few datasets, so the top
    # level holds the shared stages, the three namespaces and their bundles, and the model
    # bundle with what each condition ships (56 report inputs opened it at 12%)
    assert n_nodes <= 50, f"{n_nodes} nodes at the top level"
    assert int(zoom.strip().rstrip("%")) >= 30, f"kedro-viz opens at {zoom}"
    # the top level shows the shared datasets; each condition's own (primary, feature, model
    # input, ...) open with its namespace
    for layer in ("raw", "intermediate", "models", "model output", "reporting"):
        assert layer in layers, f"layer '{layer}' not shown in {layers!r}"
    assert SCREENSHOT.stat().st_size > 30_000
