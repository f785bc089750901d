"""The HTML report opens cleanly in headless Chromium: the summary on the first screen, every
figure decoded, the contents' links lead to their sections."""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from disc_grade.conditions import CONDITION_NAMES  # noqa: E402
from disc_grade.evaluation.render import html_report  # noqa: E402
from disc_grade.evaluation.report import sections  # noqa: E402
from disc_grade.evaluation.report_conditions import FIGURES  # noqa: E402
from tests.browser import chromium, launch  # noqa: E402


def _png(text: str) -> bytes:
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.text(0.5, 0.5, text, ha="center")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


FIGURES_OF_A_SPLIT = {
    "balanced_accuracy": 0.8,
    "balanced_accuracy_ci_low": 0.7,
    "balanced_accuracy_ci_high": 0.9,
    "severe_to_normal_rate": 0.05,
    "severe_to_normal_count": 1,
    "confusion_severe_as_normal": 1,
    "confusion_severe_as_moderate": 3,
    "confusion_severe_as_severe": 16,
    "loc_rmse_px": 1.2,
    "n_discs": 20,
}
METRICS = {
    v: {
        "test": FIGURES_OF_A_SPLIT,
        "external_test": {**FIGURES_OF_A_SPLIT, "balanced_accuracy": 0.7},
    }
    for v in ("contrastive", "scratch", "frozen")
}
CONDITIONS = {
    c: {
        "metrics": METRICS,
        "chosen_grader": {"variant": "scratch"},
        "ceiling": {"available": True, "test": 0.851, "external_test": 0.822},
    }
    for c in CONDITION_NAMES
}
SCORE = {
    split: {
        "chosen": {"rsna_score": 0.412},
        "weighted_prior": {"rsna_score": 0.834},
        "floor": {"rsna_score": 0.271},
    }
    for split in ("test", "external_test")
}
SOURCE = {"description": "test data"}
PNGS = {f"{c}/{name}": _png(name) for c in CONDITIONS for name, _ in FIGURES}


def test_report_tables_and_figures_are_in_the_html():
    html = html_report(sections(SOURCE, CONDITIONS, SCORE), PNGS)
    assert html.count("<img") == len(PNGS) == 3 * len(FIGURES)
    assert "80.0% [70.0%, 90.0%]" in html and "5.00% (1)" in html and "test data" in html
    assert base64.b64decode(html.split("base64,")[1].split("'")[0])[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_report_opens_on_the_summary_then_the_contents():
    parts = sections(SOURCE, CONDITIONS, SCORE)
    assert [p.title for p in parts[:3]] == ["Summary", "Contents", "Data"]
    summary = parts[0]
    assert len(summary.rows) == 2 * len(CONDITION_NAMES)  # in-site and held-out per condition
    first = summary.rows[0]
    assert first[1] == "scratch" and first[3] == "80.0% [70.0%, 90.0%]"
    assert first[4] == "33.3%" and first[5] == "85.1%" and first[6] == "5.00% (1 of 20)"
    ((score_header, score_rows),) = summary.tables
    assert [r[1] for r in score_rows] == ["0.412", "0.834", "0.271"]
    links = parts[1].paragraphs[0]
    assert all(f"(#{p.anchor})" in links for p in parts[2:])


def test_report_renders_in_headless_chromium(tmp_path):
    chromium()  # skips where Chromium is missing (fails under CI)
    from playwright.sync_api import sync_playwright

    page_file = tmp_path / "report.html"
    page_file.write_text(html_report(sections(SOURCE, CONDITIONS, SCORE), PNGS))
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(page_file.as_uri())
        first_heading = page.inner_text("h2")
        summary = page.locator("table").first.bounding_box()
        score = page.locator("table").nth(1).bounding_box()
        sizes = page.eval_on_selector_all(
            "img", "els => els.map(e => [e.naturalWidth, e.naturalHeight])"
        )
        page.click("text=How close to the data's limit")
        scrolled = page.evaluate("window.scrollY")
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        browser.close()
    assert first_heading == "Summary"
    # the summary's two tables lie on the first screen, without scrolling
    assert summary["y"] + summary["height"] <= 900 and score["y"] + score["height"] <= 900
    assert scrolled > 900  # a link of the contents leads down to its section
    assert len(sizes) == len(PNGS) and all(w > 100 and h > 100 for w, h in sizes)
    assert not errors
    assert (tmp_path / "report.png").stat().st_size > 20_000
