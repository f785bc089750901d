"""How a cohort's grades hang together: a level's conditions, and a study's levels.

The real labels tie the conditions of one level together (a bulging disc and a thick ligamentum
flavum narrow the canal and both recesses at once; facet hypertrophy both foramina) and a
study's levels to each other. ``label_correlations`` measures both on any ``train.csv``:

- ``<a> ~ <b>``: Spearman's correlation of the grades of conditions ``a`` and ``b`` at the same
  level (pooled over levels and studies, both cells filled);
- ``<family> ~ its study's other levels``: each target's grade against the mean grade of the
  same condition at the study's other levels.

``RSNA_2024_CORRELATIONS`` holds the public ``train.csv``'s figures (1,975 studies) where a
range was published for a pair of sides, its midpoint.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from disc_grade.conditions import spec_of_condition
from disc_grade.rsna import CONDITIONS, FAMILIES, LEVELS, SEVERITIES, condition_family, label_column

SHORT = {c: spec_of_condition(c).target_name(c) for c in CONDITIONS}
RSNA_2024_CORRELATIONS: dict[str, float] = {
    "canal ~ left recess": 0.515,
    "canal ~ right recess": 0.515,
    "left recess ~ right recess": 0.56,
    "left foramen ~ right foramen": 0.42,
    "left foramen ~ left recess": 0.395,
    "left foramen ~ right recess": 0.395,
    "right foramen ~ left recess": 0.395,
    "right foramen ~ right recess": 0.395,
    "canal ~ left foramen": 0.275,
    "canal ~ right foramen": 0.275,
    "spinal ~ its study's other levels": 0.32,
    "foraminal ~ its study's other levels": 0.32,
    "subarticular ~ its study's other levels": 0.32,
}


def grade_codes(train: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per condition, [studies, levels] grades 0/1/2 (NaN for a blank or unknown cell)."""
    codes = {s: float(k) for k, s in enumerate(SEVERITIES)}
    return {
        c: train[[label_column(c, lv) for lv in LEVELS]]
        .apply(lambda col: col.map(codes))
        .to_numpy(dtype=float)
        for c in CONDITIONS
    }


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    both = np.isfinite(x) & np.isfinite(y)
    if both.sum() < 3:
        return float("nan")
    return float(pd.Series(x[both]).corr(pd.Series(y[both]), method="spearman"))


def same_level(grades: dict[str, np.ndarray]) -> dict[str, float]:
    """Spearman's correlation of every pair of conditions at the same level."""
    return {
        f"{SHORT[a]} ~ {SHORT[b]}": _spearman(grades[a].ravel(), grades[b].ravel())
        for a, b in itertools.combinations(CONDITIONS, 2)
    }


def within_study(grades: dict[str, np.ndarray]) -> dict[str, float]:
    """Per family, each target against the mean of its condition's other levels in its study."""
    out = {}
    for family in FAMILIES:
        targets, others = [], []
        for condition in (c for c in CONDITIONS if condition_family(c) == family):
            g = grades[condition]
            total, count = np.nansum(g, axis=1, keepdims=True), np.isfinite(g).sum(1, keepdims=True)
            rest = (total - np.nan_to_num(g)) / (count - np.isfinite(g))
            targets.append(g.ravel())
            others.append(np.where(np.isfinite(g), rest, np.nan).ravel())
        out[f"{family} ~ its study's other levels"] = _spearman(
            np.concatenate(targets), np.concatenate(others)
        )
    return out


def label_correlations(train: pd.DataFrame) -> dict[str, float]:
    """Every figure of ``RSNA_2024_CORRELATIONS``, measured on a cohort's ``train.csv``."""
    grades = grade_codes(train)
    measured = same_level(grades) | within_study(grades)
    return {key: measured[key] for key in RSNA_2024_CORRELATIONS}


def compare(correlations: dict[str, float]) -> pd.DataFrame:
    """Real against cohort figure per key, their difference, and whether it is within 0.1."""
    rows = []
    for key, real in RSNA_2024_CORRELATIONS.items():
        ours = correlations[key]
        rows.append(
            {
                "correlation": key,
                "real": real,
                "cohort": ours,
                "difference": ours - real,
                "ok": abs(ours - real) <= 0.1,
            }
        )
    return pd.DataFrame(rows)


def comparison_markdown(
    first: str, reference: dict[str, float], tables: dict[str, pd.DataFrame], scale: float = 1.0
) -> str:
    """A Markdown table: per key of ``reference`` (column ``first``) the real figure, then one
    column per cohort (``tables``: its ``cohort`` figure and ``ok`` by key), each times
    ``scale``, misses flagged (x)."""
    lines = [f"| {first} | real | " + " | ".join(tables) + " |", "|---|---|" + "---|" * len(tables)]
    for key, real in reference.items():
        cells = [
            f"{scale * t.loc[key, 'cohort']:.2f}{'' if t.loc[key, 'ok'] else ' (x)'}"
            for t in tables.values()
        ]
        lines.append(f"| {key} | {scale * real:.2f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def markdown(columns: dict[str, dict[str, float]]) -> str:
    """A Markdown table: the real figures, then one column per cohort, misses flagged (x)."""
    tables = {name: compare(c).set_index("correlation") for name, c in columns.items()}
    return comparison_markdown("Spearman", RSNA_2024_CORRELATIONS, tables)
