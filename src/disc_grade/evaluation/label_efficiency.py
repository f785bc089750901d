"""The label-efficiency study: balanced accuracy against the share of labelled training studies.

Per variant, label fraction and test split, the predictions of every seed are pooled; balanced
accuracy and severe-to-normal rate are computed on the pool, with 95% bootstrap intervals that
resample studies (a study's discs of every seed move together).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from disc_grade.evaluation.metrics import (
    balanced_accuracy,
    bootstrap_by_study,
    confusion,
    severe_to_normal,
)
from disc_grade.plotting import plt

TEST_SPLITS = ("test", "external_test")
SPLIT_STYLES = {"test": "-", "external_test": "--"}


def efficiency_table(
    predictions: pd.DataFrame, n_resamples: int, seed: int, splits: tuple[str, ...] = TEST_SPLITS
) -> pd.DataFrame:
    """One row per (variant, fraction, split): pooled figures over the seeds, with intervals."""
    rows = []
    held_out = predictions[predictions["split"].isin(splits)]
    for (variant, fraction, split), pool in held_out.groupby(["variant", "fraction", "split"]):
        cm = confusion(pool["label"].to_numpy(int), pool["predicted"].to_numpy(int))
        rate, count = severe_to_normal(cm)
        ci = bootstrap_by_study(pool, n_resamples, seed)
        per_seed = [
            balanced_accuracy(confusion(s["label"].to_numpy(int), s["predicted"].to_numpy(int)))
            for _, s in pool.groupby("seed")
        ]
        rows.append(
            {
                "variant": variant,
                "fraction": float(fraction),
                "split": split,
                "n_seeds": int(pool["seed"].nunique()),
                "n_train_studies": float(pool["n_train_studies"].mean()),
                "balanced_accuracy": balanced_accuracy(cm),
                "balanced_accuracy_ci_low": ci["balanced_accuracy"][0],
                "balanced_accuracy_ci_high": ci["balanced_accuracy"][1],
                "balanced_accuracy_seed_sd": float(np.std(per_seed)),
                "severe_to_normal_rate": rate,
                "severe_to_normal_count": count,
            }
        )
    return pd.DataFrame(rows).sort_values(["split", "variant", "fraction"], ignore_index=True)


def efficiency_figure(table: pd.DataFrame):
    """Balanced accuracy against label fraction, a line per variant and split, intervals shaded."""
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    colours = {v: f"C{k}" for k, v in enumerate(sorted(table["variant"].unique()))}
    for (variant, split), rows in table.groupby(["variant", "split"], sort=True):
        line = ax.plot(
            rows["fraction"],
            rows["balanced_accuracy"],
            SPLIT_STYLES.get(split, ":"),
            marker="o",
            color=colours[variant],
            label=f"{variant} ({split.replace('_', ' ')})",
        )[0]
        ax.fill_between(
            rows["fraction"],
            rows["balanced_accuracy_ci_low"],
            rows["balanced_accuracy_ci_high"],
            color=line.get_color(),
            alpha=0.12,
        )
    ax.axhline(1 / 3, color="grey", lw=0.8, ls=":", label="chance (any constant grader)")
    ax.set_xscale("log")
    ax.set_xticks(
        sorted(table["fraction"].unique()), [f"{f:g}" for f in sorted(table["fraction"].unique())]
    )
    ax.set_xlabel("share of labelled training studies")
    ax.set_ylabel("balanced accuracy")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7, ncol=2)
    ax.set_title(
        "Label efficiency: solid in-site test, dashed held-out site\n(seeds pooled, 95% bootstrap by study)",
        fontsize=9,
    )
    fig.tight_layout()
    return fig
