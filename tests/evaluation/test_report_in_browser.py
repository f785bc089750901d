"""The HTML report opens cleanly in headless Chromium with every figure decoded."""

from __future__ import annotations

import base64
import io
import shutil

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from disc_grade.evaluation.render import html_report  # noqa: E402
from disc_grade.evaluation.report import FIGURES, sections  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _png(text: str) -> bytes:
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.text(0.5, 0.5, text, ha="center")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


METRICS = {
    v: {
        "test": {
            "balanced_accuracy": 0.8,
            "balanced_accuracy_ci_low": 0.7,
            "balanced_accuracy_ci_high": 0.9,
            "severe_to_normal_rate": 0.05,
            "severe_to_normal_count": 1,
            "loc_rmse_px": 1.2,
            "n_discs": 20,
        }
    }
    for v in ("contrastive", "scratch", "frozen")
}


CONDITIONS = {c: {"metrics": METRICS} for c in ("spinal", "foraminal", "subarticular")}
PNGS = {f"{c}/{name}": _png(name) for c in CONDITIONS for name, _ in FIGURES}


def test_report_tables_and_figures_are_in_the_html():
    html = html_report(sections("test data", CONDITIONS, {}), PNGS)
    assert html.count("<img") == len(PNGS) == 3 * len(FIGURES)
    assert "80.0% [70.0%, 90.0%]" in html and "5.00% (1)" in html and "test data" in html
    assert base64.b64decode(html.split("base64,")[1].split("'")[0])[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="Debian's chromium is not installed (apt-get install chromium); .ci/run installs it",
)
def test_report_renders_in_headless_chromium(tmp_path):
    from playwright.sync_api import sync_playwright

    page_file = tmp_path / "report.html"
    page_file.write_text(html_report(sections("test data", CONDITIONS, {}), PNGS))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(page_file.as_uri())
        sizes = page.eval_on_selector_all(
            "img", "els => els.map(e => [e.naturalWidth, e.naturalHeight])"
        )
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        browser.close()
    assert len(sizes) == len(PNGS) and all(w > 100 and h > 100 for w, h in sizes)
    assert not errors
    assert (tmp_path / "report.png").stat().st_size > 20_000
