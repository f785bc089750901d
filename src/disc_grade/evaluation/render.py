"""A report as sections, and its two renderings: Markdown (figures beside it) and self-contained HTML."""

from __future__ import annotations

import base64
import html
import math
import re
from dataclasses import dataclass, field


def fmt(value, kind: str = "num") -> str:
    """A figure as the reports print it; "n/a" for a missing one (None or NaN)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if kind == "pct":
        return f"{100 * value:.1f}%"
    if kind == "pct2":  # small rates, as the paper's 2.13%
        return f"{100 * value:.2f}%"
    if kind == "int":
        return f"{int(value)}"
    return f"{value:.3f}"


def fmt_interval(value, low, high) -> str:
    """``value [low, high]`` to three decimals; "n/a" when the value is missing."""
    text = fmt(value)
    return text if text == "n/a" else f"{text} [{fmt(low)}, {fmt(high)}]"


@dataclass
class Section:
    """A heading, then paragraphs, a table and figures (PNG names), each optional; ``tables``
    are further (header, rows) pairs after the first."""

    title: str
    paragraphs: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    figures: list[tuple[str, str]] = field(default_factory=list)  # (name, caption)
    tables: list[tuple[list[str], list[list[str]]]] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        """The heading's anchor, as GitHub spells it (lower case, punctuation dropped, spaces
        as hyphens), for the table of contents in both renderings."""
        kept = "".join(c for c in self.title.lower() if c.isalnum() or c in " -_")
        return kept.replace(" ", "-")

    def all_tables(self) -> list[tuple[list[str], list[list[str]]]]:
        return ([(self.header, self.rows)] if self.header else []) + list(self.tables)


def contents(parts: list[Section]) -> Section:
    """A table of contents: one link per section."""
    links = [f"[{part.title}](#{part.anchor})" for part in parts]
    return Section("Contents", [" · ".join(links)])


def figure_file(name: str) -> str:
    """Where a report figure ``<condition>/<name>`` lies beside the report."""
    condition, _, figure = name.partition("/")
    return f"{condition}/figures/{figure}.png"


_LINK = re.compile(r"\[([^\]]+)\]\(#([a-z0-9_-]+)\)")


def _html_paragraph(text: str) -> str:
    """A paragraph escaped, its Markdown links to sections (``[title](#anchor)``) made links."""
    return _LINK.sub(r"<a href='#\2'>\1</a>", html.escape(text, quote=False))


def md_table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table: ``header`` and ``rows`` of cells already formatted."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def markdown_report(parts: list[Section]) -> str:
    """The report in Markdown; figures are the PNGs beside it in ``08_reporting``."""
    out = ["# disc-grade evaluation report"]
    for part in parts:
        out.append(f"## {part.title}")
        out += part.paragraphs
        out += [md_table(header, rows) for header, rows in part.all_tables()]
        out += [
            f"### {caption}\n\n![{caption}]({figure_file(name)})" for name, caption in part.figures
        ]
    return "\n\n".join(out) + "\n"


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}"
    "td:first-child,th:first-child{text-align:left}th{background:#f2f2f2}img{max-width:100%;border:1px solid #eee}"
    "p{max-width:60em}"
)


def html_report(parts: list[Section], figures: dict[str, bytes]) -> str:
    """A self-contained HTML page: tables and the figures embedded as PNG."""
    out = [
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>disc-grade evaluation</title><style>{STYLE}</style></head><body>",
        "<h1>disc-grade evaluation report</h1>",
    ]
    for part in parts:
        out.append(f"<h2 id='{part.anchor}'>{html.escape(part.title)}</h2>")
        out += [f"<p>{_html_paragraph(p)}</p>" for p in part.paragraphs]
        out += [_html_table(header, rows) for header, rows in part.all_tables()]
        for name, caption in part.figures:
            if name in figures:
                data = base64.b64encode(figures[name]).decode("ascii")
                out.append(
                    f"<h3>{html.escape(caption)}</h3><img alt='{html.escape(caption)}' src='data:image/png;base64,{data}'>"
                )
    out.append("</body></html>")
    return "\n".join(out)
