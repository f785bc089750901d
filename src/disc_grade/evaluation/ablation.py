"""The ablation table: per recipe, what its frozen features know and how its grader grades.

Figures pool the seeds' predictions; intervals resample studies. The recipe validation picks
(highest validation balanced accuracy averaged over the label fractions, probe as tie-break) is
marked; test figures are reported, never used to choose.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from disc_grade.evaluation.label_efficiency import efficiency_table
from disc_grade.evaluation.render import Section, fmt, fmt_interval
from disc_grade.plotting import plt

SPLITS = ("validation", "test", "external_test")
PROBE_COLUMNS = ("probe_balanced_accuracy", "knn_balanced_accuracy", "compromise_r2")
FIGURES = (
    "balanced_accuracy",
    "balanced_accuracy_ci_low",
    "balanced_accuracy_ci_high",
    "severe_to_normal_rate",
    "severe_to_normal_count",
)


def ablation_table(
    predictions: pd.DataFrame, probes: pd.DataFrame, n_resamples: int, seed: int
) -> pd.DataFrame:
    """One row per (recipe, fraction): probe scores (mean over seeds) and, per split, balanced
    accuracy [95% CI] and the severe-to-normal rate of the pooled seeds."""
    graded = efficiency_table(predictions, n_resamples, seed, splits=SPLITS)
    wide = None
    for split, rows in graded.groupby("split"):
        part = rows.set_index(["variant", "fraction"])[list(FIGURES)].add_prefix(f"{split}_")
        if split == "validation":
            part = part.join(
                rows.set_index(["variant", "fraction"])[["n_train_studies", "n_seeds"]]
            )
        wide = part if wide is None else wide.join(part, how="outer")
    wide.index.names = ["recipe", "fraction"]
    probe_columns = [c for c in PROBE_COLUMNS if c in probes.columns]
    probe = probes.groupby(["recipe", "fraction"])[probe_columns].mean()
    table = probe.join(wide, how="outer").reset_index()
    for split in SPLITS:  # a split without targets of this condition: its columns stay, empty
        for column in (f"{split}_{f}" for f in FIGURES):
            if column not in table:
                table[column] = np.nan
    order = {name: k for k, name in enumerate(dict.fromkeys(probes["recipe"]))}
    return table.sort_values(
        ["recipe", "fraction"],
        key=lambda c: c.map(order) if c.name == "recipe" else c,
        ignore_index=True,
    )


def chosen_recipe(table: pd.DataFrame, candidates: list[str] | None = None) -> str:
    """The recipe with the best validation balanced accuracy averaged over the fractions (probe
    balanced accuracy breaks ties); only ``candidates`` when given. Test figures are not read."""
    return str(_validation_ranking(table, candidates).index[0])


def choice_margin(table: pd.DataFrame, candidates: list[str] | None = None) -> float:
    """How far the chosen recipe's mean validation balanced accuracy is above the next one's."""
    ranked = _validation_ranking(table, candidates)["validation_balanced_accuracy"].to_numpy()
    return float(ranked[0] - ranked[1]) if len(ranked) > 1 else float("nan")


def _validation_ranking(table: pd.DataFrame, candidates: list[str] | None) -> pd.DataFrame:
    rows = table if candidates is None else table[table["recipe"].isin(candidates)]
    if rows.empty:
        raise ValueError(f"no ablation rows for the candidate recipes {candidates}")
    score = rows.groupby("recipe", sort=False)[
        ["validation_balanced_accuracy", "probe_balanced_accuracy"]
    ].mean()
    return score.sort_values(list(score.columns), ascending=False, kind="stable")


def _ci(row, split: str) -> str:
    key = f"{split}_balanced_accuracy"
    return fmt_interval(row.get(key), row.get(f"{key}_ci_low"), row.get(f"{key}_ci_high"))


def _rate(row, split: str) -> str:
    rate = row.get(f"{split}_severe_to_normal_rate", np.nan)
    if not np.isfinite(rate):
        return "n/a"
    return f"{rate:.0%} ({int(row[f'{split}_severe_to_normal_count'])})"


def ablation_section(
    table: pd.DataFrame, chosen: str, recipes: dict[str, str], margin: float = float("nan")
) -> Section:
    """The report section: the table, how to read it, and the recipe validation picks, with its
    margin over the next recipe (set beside the validation intervals, it says whether this
    cohort's validation split can tell the recipes apart at all)."""
    header = [
        "recipe",
        "labels",
        "probe (CV)",
        "kNN (CV)",
        "compromise R^2",
        "validation BA [95% CI]",
        "test BA [95% CI]",
        "test severe-to-normal",
        "held-out site BA",
    ]
    rows = []
    for row in table.to_dict("records"):
        name = f"**{row['recipe']}**" if row["recipe"] == chosen else row["recipe"]
        rows.append(
            [
                name,
                f"{row['fraction']:.0%}",
                fmt(row["probe_balanced_accuracy"]),
                fmt(row["knn_balanced_accuracy"]),
                fmt(row.get("compromise_r2", np.nan)),
                _ci(row, "validation"),
                _ci(row, "test"),
                _rate(row, "test"),
                _ci(row, "external_test"),
            ]
        )
    described = [f"- **{name}**: {text}" for name, text in recipes.items()]
    return Section(
        "Contrastive pretraining ablation",
        [
            "Each recipe pretrains (or not) and fine-tunes on the given share of the labelled "
            "training studies, once per seed; balanced accuracy (BA) and severe-to-normal pool "
            "the seeds' predictions, intervals resample studies. The probe, kNN and compromise "
            "R^2 read the frozen encoder (before fine-tuning), cross-validated by study over the "
            "training and validation discs; a recipe without pretraining shows a random "
            "encoder's. Chance balanced accuracy is 0.333; R^2 0 is the mean's.",
            f"Chosen by validation (mean validation BA over the fractions): **{chosen}**, "
            f"{fmt(margin)} above the next recipe; where that is small beside the validation "
            "intervals, this cohort cannot tell the recipes apart. Test columns were not used "
            "to choose.",
            "\n".join(described),
        ],
        header=header,
        rows=rows,
        figures=[("ablation", "Test balanced accuracy per recipe and label share")],
    )


def ablation_figure(table: pd.DataFrame):
    """Test balanced accuracy per recipe, a bar per label fraction, 95% intervals."""
    recipes = list(dict.fromkeys(table["recipe"]))
    fractions = sorted(table["fraction"].unique())
    width = 0.8 / max(len(fractions), 1)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.0 * len(recipes)), 4.0))
    for k, fraction in enumerate(fractions):
        rows = table[table["fraction"] == fraction].set_index("recipe").reindex(recipes)
        value = rows["test_balanced_accuracy"].to_numpy(float)
        error = np.abs(
            np.vstack(
                [
                    value - rows["test_balanced_accuracy_ci_low"],
                    rows["test_balanced_accuracy_ci_high"] - value,
                ]
            )
        )
        ax.bar(
            np.arange(len(recipes)) + (k - (len(fractions) - 1) / 2) * width,
            value,
            width,
            yerr=error,
            capsize=2,
            label=f"{fraction:.0%} of labels",
        )
    ax.axhline(1 / 3, color="grey", lw=0.8, ls=":", label="chance")
    ax.set_xticks(np.arange(len(recipes)), recipes, rotation=30, ha="right", fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_ylabel("test balanced accuracy")
    ax.legend(fontsize=7)
    ax.set_title("Ablation: seeds pooled, 95% bootstrap by study", fontsize=9)
    fig.tight_layout()
    return fig
