"""The report's gaps pooled over several cohorts' runs: the mean gap and its interval.

One cohort's test splits hold 40-60 studies, so the interval of a held-out minus in-site gap
spans 0.25-0.35: a target of 0.05 on it is met or missed by the draw of test studies as much as
by the grader. Each run's report writes every study resample of its gaps
(``data/08_reporting/gap_resamples.parquet``, ``site_gap.resample_rows``). The cohorts are
independent, so the mean gap over ``k`` of them is resampled by averaging one resample of each:
resample ``r`` of the pool is the mean of the cohorts' resamples at ``r``, each cohort's
resamples first shuffled by a permutation of its own (seeded), so that no two cohorts' resamples
are paired by a shared draw of counts. The interval of the mean narrows about as ``1/sqrt(k)``.

    python -m disc_grade.evaluation.pooled_gaps RUN_DIR [RUN_DIR ...] [--json OUT] [--plot PNG]

Each argument is a run's project directory (its ``data/08_reporting/gap_resamples.parquet``) or
that file itself.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from disc_grade.evaluation.metrics import interval
from disc_grade.evaluation.render import md_table
from disc_grade.evaluation.site_gap import RESAMPLE_COLUMNS
from disc_grade.plotting import plt

RESAMPLES = Path("data/08_reporting/gap_resamples.parquet")
SPLITS = ("test", "external_test", "difference")


def _checked(name: str, table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with its columns and its resamples checked (``name`` in the errors)."""
    missing = sorted(set(RESAMPLE_COLUMNS) - set(table.columns))
    if missing:
        raise ValueError(f"{name}: not a gap_resamples table (no column(s) {missing})")
    counts = table.groupby(["target", "split"])["resample"].agg(["nunique", "size", "max"])
    if (counts["nunique"] != counts["size"]).any() or (counts["max"] + 1 != counts["size"]).any():
        raise ValueError(f"{name}: each target and split needs resamples 0..R-1, each once")
    return table


def pooled(cohorts: dict[str, pd.DataFrame], level: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Per target and split (``test``, ``external_test``, ``difference``) that every cohort
    has: each cohort's point gap, their mean and the ``level`` interval of the mean.

    Args:
        cohorts: per cohort's name, its ``gap_resamples`` table (``RESAMPLE_COLUMNS``).

    Raises:
        ValueError: no cohort, a table that is not one, or cohorts resampled a different
            number of times.
    """
    if not cohorts:
        raise ValueError("pooled gaps need at least one cohort's gap_resamples")
    tables = {name: _checked(name, t) for name, t in cohorts.items()}
    sizes = {name: int(t["resample"].max()) + 1 for name, t in tables.items() if len(t)}
    if len(set(sizes.values())) > 1:
        raise ValueError(f"the cohorts were resampled a different number of times: {sizes}")
    n = next(iter(sizes.values()), 0)
    order = {name: np.random.default_rng(seed + k).permutation(n) for k, name in enumerate(tables)}
    keys = set.intersection(
        *(set(zip(t["target"], t["split"], strict=True)) for t in tables.values())
    )
    rows = []
    first = list(dict.fromkeys(next(iter(tables.values()))["target"]))
    for target, split in sorted(keys, key=lambda k: (first.index(k[0]), SPLITS.index(k[1]))):
        points, draws = {}, []
        for name, table in tables.items():
            own = table[(table["target"] == target) & (table["split"] == split)]
            own = own.sort_values("resample")
            points[name] = float(own["point"].iloc[0])
            draws.append(own["gap"].to_numpy(dtype=float)[order[name]])
        low, high = interval(np.mean(draws, axis=0), level)
        mean = float(np.mean(list(points.values())))
        rows.append({"target": target, "split": split, **points, "mean": mean})
        rows[-1].update({"ci_low": low, "ci_high": high, "n_cohorts": len(tables)})
    return pd.DataFrame(rows)


def markdown(table: pd.DataFrame, level: float) -> str:
    """``pooled``'s table as a markdown table, three decimals."""
    head = [c for c in table.columns if c not in ("ci_low", "ci_high", "n_cohorts")]
    rows = [
        [v if isinstance(v, str) else f"{v:.3f}" for v in (values[c] for c in head)]
        + [f"[{values['ci_low']:.3f}, {values['ci_high']:.3f}]"]
        for values in table.to_dict(orient="records")
    ]
    return md_table([*head, f"{level:.0%} interval of the mean"], rows)


def forest_figure(cohorts: dict[str, pd.DataFrame], table: pd.DataFrame, level: float = 0.95):
    """One panel per split (in-site, held-out site, their difference): per target each cohort's
    gap with its own ``level`` interval (dots) and ``pooled``'s mean with the interval of the
    mean (a diamond), a line at no gap."""
    titles = {"test": "in-site test", "external_test": "held-out site", "difference": "difference"}
    splits = [s for s in SPLITS if s in set(table["split"])]
    fig, axes = plt.subplots(1, max(len(splits), 1), figsize=(4.2 * max(len(splits), 1), 3.6))
    axes = np.atleast_1d(axes)
    targets = list(dict.fromkeys(table["target"]))
    step = 0.6 / max(len(cohorts), 1)
    for ax, split in zip(axes, splits, strict=False):
        for y, target in enumerate(targets):
            for k, (name, cohort) in enumerate(cohorts.items()):
                own = cohort[(cohort["target"] == target) & (cohort["split"] == split)]
                low, high = interval(own["gap"].to_numpy(dtype=float), level)
                at = y + 0.1 + step * (k + 0.5)
                ax.plot([low, high], [at, at], color=f"C{k}", lw=1)
                ax.plot(own["point"].iloc[0], at, "o", color=f"C{k}", ms=4, label=name)
            row = table[(table["target"] == target) & (table["split"] == split)].iloc[0]
            ax.plot([row["ci_low"], row["ci_high"]], [y - 0.2, y - 0.2], color="black", lw=2)
            ax.plot(row["mean"], y - 0.2, "D", color="black", ms=6, label="mean")
        ax.axvline(0, color="grey", lw=0.8, ls="--")
        ax.set_yticks(range(len(targets)), targets, fontsize=8)
        ax.invert_yaxis()
        ax.set_title(titles[split])
        ax.set_xlabel("gap (resampled studies)")
    handles, labels = axes[0].get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    fig.legend(unique.values(), unique.keys(), loc="lower center", ncol=len(unique), fontsize=7)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def _load(argument: str) -> tuple[str, pd.DataFrame]:
    path = Path(argument)
    file = path / RESAMPLES if path.is_dir() else path
    if not file.is_file():
        raise FileNotFoundError(f"{argument}: no {RESAMPLES} (run the report pipeline there)")
    return str(path), pd.read_parquet(file)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", help="run directories or gap_resamples.parquet files")
    parser.add_argument("--level", type=float, default=0.95)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the table here")
    parser.add_argument("--plot", type=Path, help="also draw the forest figure here (PNG)")
    args = parser.parse_args(argv)
    if len(set(args.runs)) < len(args.runs):
        parser.error("a run is named twice")
    cohorts = dict(_load(a) for a in args.runs)
    table = pooled(cohorts, args.level, args.seed)
    print(markdown(table, args.level))
    if args.plot and not table.empty:
        forest_figure(cohorts, table, args.level).savefig(args.plot, dpi=120)
    if args.json:
        args.json.write_text(json.dumps(table.to_dict(orient="records"), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
