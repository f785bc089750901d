"""The label-efficiency table pools seeds per (variant, fraction, split) and scores them honestly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from disc_grade.evaluation.label_efficiency import efficiency_figure, efficiency_table
from disc_grade.evaluation.metrics import balanced_accuracy, confusion


def _cell(variant, fraction, seed, rng, accuracy):
    n = 60
    labels = rng.choice(3, size=n, p=[0.6, 0.25, 0.15])
    predicted = np.where(rng.random(n) < accuracy, labels, rng.choice(3, size=n))
    return pd.DataFrame(
        {
            "study_id": np.arange(n) // 3 + 10**9,
            "level": "l4_l5",
            "variant": variant,
            "split": np.where(np.arange(n) < 45, "test", "validation"),
            "label": labels,
            "predicted": predicted,
            "fraction": fraction,
            "seed": seed,
            "n_train_studies": 10 * fraction,
        }
    )


def test_seeds_are_pooled_and_validation_is_left_out():
    rng = np.random.default_rng(0)
    cells = [
        _cell(v, f, s, rng, acc)
        for v, acc in (("scratch", 0.8), ("contrastive", 0.5))
        for f in (0.1, 1.0)
        for s in (0, 1, 2)
    ]
    predictions = pd.concat(cells, ignore_index=True)
    table = efficiency_table(predictions, n_resamples=200, seed=0)
    assert set(table["split"]) == {"test"} and len(table) == 4 and (table["n_seeds"] == 3).all()
    pool = predictions[
        (predictions["variant"] == "scratch")
        & (predictions["fraction"] == 0.1)
        & (predictions["split"] == "test")
    ]
    row = table[(table["variant"] == "scratch") & (table["fraction"] == 0.1)].iloc[0]
    assert row["balanced_accuracy"] == pytest.approx(
        balanced_accuracy(confusion(pool["label"], pool["predicted"]))
    )
    assert (
        row["balanced_accuracy_ci_low"]
        <= row["balanced_accuracy"]
        <= row["balanced_accuracy_ci_high"]
    )
    better = table.groupby("variant")["balanced_accuracy"].mean()
    assert better["scratch"] > better["contrastive"]
    efficiency_figure(table)
