"""The evaluation report: Markdown, and HTML with the figures embedded."""

from __future__ import annotations

import base64
import html
import math

PAPER = {"balanced_accuracy": 0.781, "severe_to_normal_rate": 0.0213, "loc_rmse_px": 10.18}
FIGURES = (
    ("confusion_matrices", "Confusion matrices (test)"),
    ("per_level_accuracy", "Balanced accuracy per level (test)"),
    ("reliability_diagram", "Reliability diagram (test)"),
    (
        "worst_errors",
        "Worst errors: truly Severe discs with the lowest P(Severe), Grad-CAM overlaid",
    ),
)
DETAIL = (
    ("balanced_accuracy", "balanced accuracy", "pct"),
    ("macro_f1", "macro F1", "num"),
    ("quadratic_weighted_kappa", "quadratic weighted kappa", "num"),
    ("recall_normal_mild", "recall Normal/Mild", "pct"),
    ("recall_moderate", "recall Moderate", "pct"),
    ("recall_severe", "recall Severe", "pct"),
    ("precision_severe", "precision Severe", "pct"),
    ("severe_to_normal_rate", "severe-to-normal rate", "pct2"),
    ("spinal_log_loss", "RSNA spinal log loss (weights 1/2/4)", "num"),
    ("any_severe_log_loss", "RSNA any-severe-spinal log loss", "num"),
    ("rsna_spinal_score", "RSNA spinal score (mean of the two)", "num"),
    ("expected_calibration_error", "expected calibration error", "num"),
    ("loc_rmse_px", "localisation RMSE (px)", "num"),
    ("loc_rmse_mm", "localisation RMSE (mm)", "num"),
    ("n_discs", "discs", "int"),
    ("n_studies", "studies", "int"),
)


def _fmt(value, kind: str = "num") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if kind == "pct":
        return f"{100 * value:.1f}%"
    if kind == "pct2":  # small rates, as the paper's 2.13%
        return f"{100 * value:.2f}%"
    if kind == "int":
        return f"{int(value)}"
    return f"{value:.3f}"


def _ci(m: dict, key: str) -> str:
    low, high = m.get(f"{key}_ci_low"), m.get(f"{key}_ci_high")
    if low is None or high is None:
        return ""
    kind = "pct2" if key == "severe_to_normal_rate" else "pct"
    return f" [{_fmt(low, kind)}, {_fmt(high, kind)}]"


def headline_rows(metrics: dict, split: str = "test") -> list[list[str]]:
    """The paper's comparison: variant x balanced accuracy x severe-to-normal rate."""
    rows = []
    for variant, by_split in metrics.items():
        m = by_split.get(split, {})
        rows.append(
            [
                variant,
                _fmt(m.get("balanced_accuracy"), "pct") + _ci(m, "balanced_accuracy"),
                f"{_fmt(m.get('severe_to_normal_rate'), 'pct2')} ({m.get('severe_to_normal_count', 0)})"
                + _ci(m, "severe_to_normal_rate"),
                _fmt(m.get("loc_rmse_px")),
            ]
        )
    rows.append(
        [
            "paper, contrastive (Acharya & Kansakar 2026)",
            _fmt(PAPER["balanced_accuracy"], "pct"),
            _fmt(PAPER["severe_to_normal_rate"], "pct2"),
            _fmt(PAPER["loc_rmse_px"]),
        ]
    )
    return rows


HEADLINE = [
    "variant",
    "balanced accuracy [95% CI]",
    "severe-to-normal rate (count) [95% CI]",
    "localisation RMSE (px)",
]


def _detail_rows(metrics: dict, split: str) -> tuple[list[str], list[list[str]]]:
    variants = list(metrics)
    header = ["metric", *variants]
    rows = [
        [label, *(_fmt(metrics[v].get(split, {}).get(key), kind) for v in variants)]
        for key, label, kind in DETAIL
    ]
    return header, rows


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _caveat(data_source: str) -> str:
    return (
        f"Our figures are measured on the data actually used here ({data_source}), on held-out test "
        "studies (split by study, so no patient is on both sides); the paper's are on the RSNA 2024 "
        "data with a disc-level split. They are quoted for orientation, not as a like-for-like comparison."
    )


def markdown_report(metrics: dict, data_source: str) -> str:
    """The report in Markdown; figures are the PNGs beside it in ``08_reporting``."""
    parts = [
        "# disc-grade evaluation report",
        "## Paper comparison (test split)",
        _md_table(HEADLINE, headline_rows(metrics)),
        "",
        _caveat(data_source),
    ]
    for split in ("test", "validation"):
        parts += [f"## All figures ({split})", _md_table(*_detail_rows(metrics, split))]
    parts.append("## Figures")
    parts += [f"### {title}\n\n![{title}]({name}.png)" for name, title in FIGURES]
    parts.append(
        "Intervals are 95% percentile bootstrap intervals resampled by study. The RSNA score is "
        "the competition's sample-weighted log loss restricted to spinal canal stenosis."
    )
    return "\n\n".join(parts) + "\n"


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def html_report(metrics: dict, figures: dict[str, bytes], data_source: str) -> str:
    """A self-contained HTML page: tables and the figures embedded as PNG."""
    style = (
        "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}"
        "td:first-child,th:first-child{text-align:left}th{background:#f2f2f2}img{max-width:100%;border:1px solid #eee}"
        ".caveat{background:#fff8e1;padding:.6em 1em;border-left:4px solid #f0b400}"
    )
    parts = [
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>disc-grade evaluation</title><style>{style}</style></head><body>",
        "<h1>disc-grade evaluation report</h1>",
        "<h2>Paper comparison (test split)</h2>",
        _html_table(HEADLINE, headline_rows(metrics)),
        f"<p class='caveat'>{html.escape(_caveat(data_source))}</p>",
    ]
    for split in ("test", "validation"):
        parts += [f"<h2>All figures ({split})</h2>", _html_table(*_detail_rows(metrics, split))]
    parts.append("<h2>Figures</h2>")
    for name, title in FIGURES:
        if name in figures:
            data = base64.b64encode(figures[name]).decode("ascii")
            parts.append(
                f"<h3>{html.escape(title)}</h3><img alt='{html.escape(title)}' src='data:image/png;base64,{data}'>"
            )
    parts.append(
        "<p>Intervals are 95% percentile bootstrap intervals resampled by study.</p></body></html>"
    )
    return "\n".join(parts)
