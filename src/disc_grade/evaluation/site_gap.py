"""How far grading stays from what the data allow on each test split, and how sure that is.

Two gaps, each with a percentile interval from resampling the split's studies:

- per condition, the Bayes ceiling minus the balanced accuracy (``ceiling``) on the in-site and
  on the held-out-site test studies, and the held-out gap minus the in-site one: what a scanner
  the graders never saw costs beyond what in-site grading already loses;
- the RSNA score minus its floor (``floor``) on each split.

The two splits hold different studies, so each is resampled on its own and the difference is
taken resample by resample. Within a split the grader and the ceiling (or the floor) are
resampled together, so the interval is that of the gap itself, not of two figures apart. Sums
over studies are weighed by multinomial study counts (as ``metrics.bootstrap_by_study``), so
1,000 resamples take a fraction of a second. Real data has no latent: no gap is then available.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from disc_grade.evaluation.log_loss import WEIGHTS, row_losses
from disc_grade.evaluation.metrics import (
    N_CLASSES,
    balanced_accuracies,
    interval,
    per_study_confusions,
    study_counts,
)
from disc_grade.rsna import FAMILIES, PROB_COLUMNS, SPINAL, condition_family

KEYS = ["study_id", "condition", "level"]
RESAMPLE_COLUMNS = ["target", "split", "point", "resample", "gap"]


def ceiling_gap_resamples(discs: pd.DataFrame, prior: np.ndarray, counts: np.ndarray):
    """(point, [R] resampled) Bayes ceiling minus balanced accuracy over ``discs``.

    Args:
        discs: one row per scored target: ``study_id``, ``label``, ``predicted`` (the grader's
            grade) and ``PROB_COLUMNS`` (the grade's probability given the latent).
        prior: [3] the grade frequencies the ceiling's rule is tuned for (``ceiling``).
        counts: [R, n_studies] study counts, the studies in sorted order.
    """
    studies, index = np.unique(discs["study_id"].to_numpy(), return_inverse=True)
    if counts.shape[1] != len(studies):
        raise ValueError(f"{counts.shape[1]} study counts for {len(studies)} studies")
    labels = discs["label"].to_numpy(dtype=int)
    with np.errstate(divide="ignore"):
        oracle = (discs[PROB_COLUMNS].to_numpy(float) / np.where(prior > 0, prior, np.inf)).argmax(
            1
        )
    graded = per_study_confusions(index, labels, discs["predicted"].to_numpy(int), len(studies))
    best = per_study_confusions(index, labels, oracle, len(studies))
    ones = np.ones((1, len(studies)))
    gaps = [
        balanced_accuracies((c @ best).reshape(-1, N_CLASSES, N_CLASSES))
        - balanced_accuracies((c @ graded).reshape(-1, N_CLASSES, N_CLASSES))
        for c in (ones, counts)
    ]
    return float(gaps[0][0]), gaps[1]


def _family_sums(scored: pd.DataFrame, index: np.ndarray, n_studies: int) -> np.ndarray:
    """[n_studies, 2 x (families + 1)]: per study the weighted loss and the weight of each
    family's targets, then of its any-severe-spinal term (the metric's, ``rsna_score``)."""
    y = scored["label"].to_numpy(dtype=int)
    w = WEIGHTS[y]
    loss = w * row_losses(y, scored[PROB_COLUMNS].to_numpy(dtype=float))
    family = scored["condition"].map(condition_family).to_numpy()
    out = np.zeros((n_studies, 2 * (len(FAMILIES) + 1)))
    for k, name in enumerate(FAMILIES):
        mine = family == name
        np.add.at(out[:, 2 * k], index[mine], loss[mine])
        np.add.at(out[:, 2 * k + 1], index[mine], w[mine])
    spinal = (scored["condition"] == SPINAL).to_numpy()
    per_study = (
        pd.DataFrame({"i": index[spinal], "p": scored["p_severe"].to_numpy(float)[spinal]})
        .assign(severe=y[spinal] == 2, w=w[spinal])
        .groupby("i")
        .agg(p=("p", "max"), severe=("severe", "any"), w=("w", "max"))
    )
    p = np.clip(per_study["p"].to_numpy(), 0.0, 1.0)
    severe = per_study["severe"].to_numpy(dtype=int)
    binary = row_losses(severe, np.stack([1 - p, p], axis=1))
    out[per_study.index.to_numpy(), -2] = per_study["w"].to_numpy() * binary
    out[per_study.index.to_numpy(), -1] = per_study["w"].to_numpy()
    return out


def score_resamples(table: pd.DataFrame, studies: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """[R] the RSNA score of ``table`` (``rsna_score``'s columns) in each resample of
    ``studies`` (sorted; ``counts`` [R, len(studies)]); a resample without a family's targets
    scores NaN, as ``rsna_score`` does."""
    scored = table[table["label"].notna() & (table["label"] >= 0)]
    index = np.searchsorted(studies, scored["study_id"].to_numpy())
    sums = counts @ _family_sums(scored, index, len(studies))
    with np.errstate(invalid="ignore", divide="ignore"):
        terms = sums[:, 0::2] / np.where(sums[:, 1::2] > 0, sums[:, 1::2], np.nan)
    return terms.mean(axis=1)


def score_gap_resamples(graded: pd.DataFrame, floor: pd.DataFrame, counts: np.ndarray):
    """(point, [R] resampled) RSNA score of ``graded`` minus that of ``floor`` (the same
    targets, the grader that knows the latent), the studies resampled together (``counts``
    [R, n_studies], the studies in sorted order)."""
    studies = np.unique(graded["study_id"].to_numpy())
    unknown = set(floor["study_id"]) - set(studies)
    if unknown:
        raise ValueError(f"the floor scores {len(unknown)} study(ies) the grader does not")
    if counts.shape[1] != len(studies):
        raise ValueError(f"{counts.shape[1]} study counts for {len(studies)} studies")
    ones = np.ones((1, len(studies)))
    point = score_resamples(graded, studies, ones) - score_resamples(floor, studies, ones)
    gaps = score_resamples(graded, studies, counts) - score_resamples(floor, studies, counts)
    return float(point[0]), gaps


def graded_discs(chosen: pd.DataFrame, truth: pd.DataFrame, conditions) -> pd.DataFrame:
    """The scored targets of ``conditions`` in ``chosen`` (``split``, ``label``, ``predicted``)
    beside each one's grade probabilities given its latent (``truth``'s ``PROB_COLUMNS``)."""
    mine = chosen[chosen["condition"].isin(list(conditions)) & (chosen["label"] >= 0)]
    oracle = truth[[*KEYS, *PROB_COLUMNS]].astype({"study_id": "int64"})
    return mine[[*KEYS, "split", "label", "predicted"]].merge(
        oracle, on=KEYS, how="inner", validate="1:1"
    )


def _with_interval(point: float, resampled: np.ndarray, level: float) -> dict:
    low, high = interval(resampled, level)
    return {"gap": float(point), "ci_low": low, "ci_high": high}


def split_resamples(gaps: dict, settings: dict) -> dict[str, tuple[float, np.ndarray]]:
    """Per test split present (``test``, ``external_test``) a gap's ``(point, [R] resampled)``,
    and with both the held-out minus the in-site gap (``difference``), resample by resample.

    Args:
        gaps: per split present, ``(n_studies, gap_of)``: ``gap_of(counts)`` gives the
            ``(point, [R] resampled)`` gap, as ``ceiling_gap_resamples`` or
            ``score_gap_resamples`` bound to their tables.
        settings: ``n_resamples``, ``seed`` (the in-site split's; the held-out's is one more).
    """
    n, seed = int(settings["n_resamples"]), int(settings["seed"])
    out: dict[str, tuple[float, np.ndarray]] = {}
    for k, split in enumerate(("test", "external_test")):
        if split in gaps:
            n_studies, gap_of = gaps[split]
            out[split] = gap_of(study_counts(n_studies, n, seed + k))
    if len(out) == 2:
        (p_in, r_in), (p_out, r_out) = out["test"], out["external_test"]
        out["difference"] = (p_out - p_in, r_out - r_in)
    return out


def summarised(resampled: dict[str, tuple[float, np.ndarray]], level: float) -> dict:
    """``split_resamples``' gaps as their points and ``level`` percentile intervals."""
    return {split: _with_interval(p, r, level) for split, (p, r) in resampled.items()}


def resample_rows(target: str, resampled: dict[str, tuple[float, np.ndarray]]) -> pd.DataFrame:
    """``split_resamples``' gaps of one ``target`` (a condition or ``rsna_score``) as long rows
    (``RESAMPLE_COLUMNS``): what pools them over cohorts (``pooled_gaps``)."""
    parts = [
        pd.DataFrame(
            {"target": target, "split": split, "point": float(point), "gap": values}
        ).assign(resample=np.arange(len(values)))
        for split, (point, values) in resampled.items()
    ]
    if not parts:
        return pd.DataFrame(columns=RESAMPLE_COLUMNS)
    return pd.concat(parts, ignore_index=True)[RESAMPLE_COLUMNS]
