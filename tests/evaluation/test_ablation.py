"""The ablation table: validation chooses, test reports; probe scores and intervals per recipe."""

from __future__ import annotations

import numpy as np
import pandas as pd

from disc_grade.evaluation.ablation import (
    ablation_figure,
    ablation_section,
    ablation_table,
    choice_margin,
    chosen_recipe,
)


def _predictions(recipe, split, accuracy, fraction, seed, rng, n=60):
    labels = rng.choice(3, size=n, p=[0.6, 0.25, 0.15])
    predicted = np.where(rng.random(n) < accuracy, labels, (labels + 1) % 3)
    return pd.DataFrame(
        {
            "study_id": np.arange(n) // 3 + 10**9 + 1000 * ["validation", "test"].index(split),
            "level": "l4_l5",
            "variant": recipe,
            "split": split,
            "label": labels,
            "predicted": predicted,
            "fraction": fraction,
            "seed": seed,
            "n_train_studies": 10 * fraction,
        }
    )


def _ablation(accuracies: dict[str, tuple[float, float]]):
    """accuracies: recipe -> (validation accuracy, test accuracy)."""
    rng = np.random.default_rng(0)
    predictions = pd.concat(
        [
            _predictions(recipe, split, acc, fraction, seed, rng)
            for recipe, (val, test) in accuracies.items()
            for split, acc in (("validation", val), ("test", test))
            for fraction in (0.1, 1.0)
            for seed in (0, 1)
        ],
        ignore_index=True,
    )
    probes = pd.DataFrame(
        [
            {
                "recipe": r,
                "fraction": f,
                "seed": s,
                "probe_balanced_accuracy": 0.5 + 0.1 * k,
                "knn_balanced_accuracy": 0.4,
                "compromise_r2": 0.3,
            }
            for k, r in enumerate(accuracies)
            for f in (0.1, 1.0)
            for s in (0, 1)
        ]
    )
    return predictions, probes


def test_the_choice_reads_validation_never_test():
    predictions, probes = _ablation({"a": (0.9, 0.4), "b": (0.5, 0.95), "scratch": (0.95, 0.95)})
    table = ablation_table(predictions, probes, n_resamples=50, seed=0)
    assert list(dict.fromkeys(table["recipe"])) == ["a", "b", "scratch"]
    assert chosen_recipe(table, ["a", "b"]) == "a"  # b wins on test, which is not read
    assert chosen_recipe(table) == "scratch"
    assert 0.2 < choice_margin(table, ["a", "b"]) < 0.6  # validation 0.9 against 0.5
    a = table[(table["recipe"] == "a") & (table["fraction"] == 1.0)].iloc[0]
    assert a["validation_balanced_accuracy"] > 0.8 > 0.5 > a["test_balanced_accuracy"]
    assert a["test_balanced_accuracy_ci_low"] <= a["test_balanced_accuracy"]
    assert a["test_balanced_accuracy"] <= a["test_balanced_accuracy_ci_high"]
    assert a["probe_balanced_accuracy"] == 0.5 and a["n_seeds"] == 2


def test_the_section_marks_the_choice_and_the_figure_draws():
    predictions, probes = _ablation({"a": (0.9, 0.4), "b": (0.5, 0.95)})
    table = ablation_table(predictions, probes, n_resamples=20, seed=0)
    section = ablation_section(table, "a", {"a": "first", "b": "second"}, 0.4)
    assert [row[0] for row in section.rows] == ["**a**", "**a**", "b", "b"]
    assert "**a**" in section.paragraphs[1] and "- **b**: second" in section.paragraphs[2]
    assert all(len(row) == len(section.header) for row in section.rows)
    assert ablation_figure(table).axes
