"""Evaluation speed: 10,000 discs with 1,000 bootstrap resamples (goal: under 30 s).

Baseline in the same run: the same bootstrap done the plain way, recomputing balanced accuracy
with scikit-learn on each resampled table (timed on a tenth of the resamples, then scaled).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from sklearn.metrics import balanced_accuracy_score

from disc_grade.evaluation.metrics import evaluate_split


def synthetic_predictions(n_discs: int = 10_000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    labels = rng.choice(3, n_discs, p=[0.878, 0.075, 0.047])
    logits = rng.normal(size=(n_discs, 3)) + 2.5 * np.eye(3)[labels]
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return pd.DataFrame(
        {
            "study_id": np.arange(n_discs) // 5 + 10**9,
            "condition": "spinal_canal_stenosis",
            "level": np.tile(["l1_l2", "l2_l3", "l3_l4", "l4_l5", "l5_s1"], n_discs // 5),
            "label": labels,
            "predicted": probs.argmax(1),
            "p_normal_mild": probs[:, 0],
            "p_moderate": probs[:, 1],
            "p_severe": probs[:, 2],
            "point_x_pred": rng.normal(47.5, 1, n_discs),
            "point_y_pred": rng.normal(47.5, 1, n_discs),
            "point_x_true": 47.5,
            "point_y_true": 47.5,
            "mm_per_px": 0.67,
        }
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--discs", type=int, default=10_000)
    parser.add_argument("--smoke", action="store_true", help="smallest size, for make test")
    args = parser.parse_args()
    table = synthetic_predictions(500 if args.smoke else args.discs)
    start = time.perf_counter()
    out = evaluate_split(table, n_resamples=1000)
    ours = time.perf_counter() - start
    studies = table["study_id"].unique()
    by_study = dict(tuple(table.groupby("study_id")))
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for _ in range(100):
        sample = pd.concat([by_study[s] for s in rng.choice(studies, len(studies))])
        balanced_accuracy_score(sample["label"], sample["predicted"])
    plain = (time.perf_counter() - start) * 10
    print(
        f"evaluate_split: {len(table):,} discs, 1,000 study resamples, every metric: {ours:.2f} s (goal < 30 s)"
    )
    print(
        f"plain per-resample bootstrap of balanced accuracy alone (scaled from 100): {plain:.1f} s"
    )
    print(
        f"ratio x{plain / ours:.0f}; balanced accuracy {out['balanced_accuracy']:.3f} "
        f"[{out['balanced_accuracy_ci_low']:.3f}, {out['balanced_accuracy_ci_high']:.3f}]"
    )
