"""The pages a person looks at: ``index.html`` lists the graded studies with their flags, and
``<study>.html`` shows a study's slices with the points and grades, every target's probabilities,
what was not graded and why, and the warnings (a study unlike the training data; a model
trained on the phantom). Plain HTML beside the figures it shows; nothing is fetched."""

from __future__ import annotations

import html

import pandas as pd

from disc_grade.rsna import PROB_COLUMNS

STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem auto;max-width:1200px;color:#222}
table{border-collapse:collapse;font-size:.9rem}td,th{border:1px solid #ccc;padding:.25rem .5rem}
th{background:#f3f3f3}.warn{background:#fff3cd;border:1px solid #e0a800;padding:.6rem;margin:.6rem 0}
.danger{background:#f8d7da;border:1px solid #c82333;padding:.6rem;margin:.6rem 0}
.Severe{color:#b00020;font-weight:bold}.Moderate{color:#b36b00}img{max-width:100%}
"""
RESEARCH = "Research use only: not a medical device; these grades are not a diagnosis."


def _page(title: str, body: list[str], warning: str) -> str:
    banners = [f'<p class="warn">{html.escape(RESEARCH)}</p>']
    if warning:
        banners.insert(
            0, f'<p class="danger" id="bundle-warning">Warning: model {html.escape(warning)}.</p>'
        )
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}"
        f"</title><style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
        + "".join(banners)
        + "".join(body)
        + "</body></html>\n"
    )


def _cell(value) -> str:
    if isinstance(value, float):
        return "" if pd.isna(value) else f"{value:.3f}"
    return html.escape(
        "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
    )


def _table(frame: pd.DataFrame, grade_column: str | None = None) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for _, row in frame.iterrows():
        css = f' class="{html.escape(str(row[grade_column]))}"' if grade_column else ""
        rows.append(f"<tr{css}>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _levels_in_doubt(own: pd.DataFrame) -> int:
    if "level_uncertain" not in own:
        return 0
    return int(own.loc[own["level_uncertain"].fillna(False).astype(bool), "level"].nunique())


def study_summary(grades: pd.DataFrame) -> pd.DataFrame:
    """One row per study: targets graded and flagged, the severe ones, the novelty warning."""
    rows = []
    for study_id, own in grades.groupby("study_id", sort=True):
        rows.append(
            {
                "study_id": int(study_id),
                "graded": int(own["graded"].astype(bool).sum()),
                "not graded": int((~own["graded"].astype(bool)).sum()),
                "severe": int((own["grade"] == "Severe").sum()),
                "moderate": int((own["grade"] == "Moderate").sum()),
                "levels in doubt": _levels_in_doubt(own),
                "unlike training": bool(own["unlike_training"].fillna(False).astype(bool).any()),
            }
        )
    return pd.DataFrame(rows)


def index_page(summary: pd.DataFrame, warning: str, skipped_files: int) -> str:
    """``index.html``: the studies, each linked to its page, with its counts and flags."""
    linked = summary.assign(
        study_id=[f"{s}" for s in summary["study_id"]],
    )
    rows = []
    for _, row in linked.iterrows():
        cells = [f'<td><a href="{row.study_id}.html">{row.study_id}</a></td>']
        cells += [f"<td>{_cell(row[c])}</td>" for c in linked.columns[1:]]
        flagged = ' class="Severe"' if row["unlike training"] else ""
        rows.append(f"<tr{flagged}>{''.join(cells)}</tr>")
    head = "".join(f"<th>{html.escape(c)}</th>" for c in linked.columns)
    body = [
        f"<p>{len(summary)} studies graded; {skipped_files} input files skipped "
        "(<a href='files.csv'>files.csv</a> lists each with its reason). Grades: "
        "<a href='grades.csv'>grades.csv</a>; RSNA form: <a href='submission.csv'>submission.csv</a>.</p>",
        f"<table id='studies'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>",
    ]
    return _page("disc-grade: graded studies", body, warning)


def study_page(study_id: int, own: pd.DataFrame, figure: str | None, warning: str) -> str:
    """``<study>.html``: the figure, the warnings, the grades with probabilities, what was not
    graded and why."""
    body = ['<p><a href="index.html">all studies</a></p>']
    if own["unlike_training"].fillna(False).astype(bool).any():
        body.append(
            f'<p class="danger" id="novelty-warning">This study is unlike the training studies '
            f"(novelty {own['novelty'].max():.1f}): its grades may not hold for this scanner.</p>"
        )
    doubt = own.get("level_uncertain", pd.Series(False, index=own.index)).fillna(False)
    if doubt.astype(bool).any():
        levels = ", ".join(sorted(own.loc[doubt.astype(bool), "level_name"].astype(str).unique()))
        body.append(
            f'<p class="warn" id="level-warning">Level in doubt ({html.escape(levels)}): the '
            "discs could not be counted down the spine with confidence; check the level "
            "before reading its grades (marked ? on the figure).</p>"
        )
    if figure:
        body.append(f'<img alt="study {study_id}" src="{html.escape(figure)}">')
    graded = own[own["graded"].astype(bool)]
    columns = [
        "condition",
        "level_name",
        "grade",
        *PROB_COLUMNS,
        "series_id",
        "slice_rank",
        "x",
        "y",
        "variant",
        "level_uncertain",
    ]
    body.append(
        f"<h2>Graded ({len(graded)})</h2>" + _table(graded.reindex(columns=columns), "grade")
    )
    flagged = own[~own["graded"].astype(bool)]
    if len(flagged):
        body.append(
            f"<h2>Not graded ({len(flagged)}): the training frequencies stand in</h2>"
            + _table(flagged[["condition", "level_name", "flag"]])
        )
    return _page(f"study {study_id}", body, warning)
