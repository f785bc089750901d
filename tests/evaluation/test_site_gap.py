"""The report's gaps to what the data allow: the resampled RSNA score is the metric's own on the
resampled studies, the ceiling gap is the ceiling minus balanced accuracy, and the held-out minus
in-site interval tells a grader that falls on a new site from one that does not."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
import pytest

from disc_grade.evaluation.ceiling import oracle_balanced_accuracy
from disc_grade.evaluation.metrics import balanced_accuracy, confusion
from disc_grade.evaluation.rsna_score import rsna_score
from disc_grade.evaluation.site_gap import (
    ceiling_gap_resamples,
    resample_rows,
    score_gap_resamples,
    score_resamples,
    split_resamples,
    study_counts,
    summarised,
)
from disc_grade.rsna import CONDITIONS, LEVELS, PROB_COLUMNS

SETTINGS = {"n_resamples": 400, "seed": 0, "level": 0.95}


def _summary(gaps: dict, settings: dict) -> dict:
    """The gaps per split with their intervals, as the report node summarises them."""
    return summarised(split_resamples(gaps, settings), float(settings["level"]))


def _targets(n_studies: int, seed: int) -> pd.DataFrame:
    """Every target of ``n_studies`` studies, random grades (some blank) and probabilities."""
    rng = np.random.default_rng(seed)
    rows = [(s, c, lv) for s in range(100, 100 + n_studies) for c in CONDITIONS for lv in LEVELS]
    table = pd.DataFrame(rows, columns=["study_id", "condition", "level"])
    table["label"] = rng.choice([-1, 0, 0, 0, 1, 2], size=len(table))
    table[PROB_COLUMNS] = rng.dirichlet([2.0, 1.0, 1.0], size=len(table))
    return table


def _resampled(table: pd.DataFrame, studies: np.ndarray, counts: np.ndarray) -> pd.DataFrame:
    """The resample written out: each study repeated as often as drawn, under a new id."""
    parts = []
    for study, times in zip(studies, counts, strict=True):
        for copy in range(int(times)):
            part = table[table["study_id"] == study].assign(study_id=int(study) * 1000 + copy)
            parts.append(part)
    return pd.concat(parts, ignore_index=True)


def test_the_resampled_score_is_the_metric_on_the_resampled_studies():
    table = _targets(12, seed=1)
    studies = np.unique(table["study_id"])
    ones = np.ones((1, len(studies)))
    assert score_resamples(table, studies, ones)[0] == pytest.approx(
        rsna_score(table)["rsna_score"], abs=1e-12
    )
    counts = study_counts(len(studies), 3, seed=4)
    assert (counts.max(axis=1) > 1).all()  # studies drawn twice weigh twice
    for draw, scored in zip(counts, score_resamples(table, studies, counts), strict=True):
        expected = rsna_score(_resampled(table, studies, draw))["rsna_score"]
        assert scored == pytest.approx(expected, abs=1e-12)


def _score_gap(graded: pd.DataFrame, floor: pd.DataFrame) -> dict:
    n = graded["study_id"].nunique()
    return _summary({"test": (n, partial(score_gap_resamples, graded, floor))}, SETTINGS)["test"]


def test_the_floor_minus_itself_is_no_gap_and_a_worse_grader_is_above_it():
    floor = _targets(30, seed=2)
    same = _score_gap(floor, floor)
    assert same["gap"] == 0 and same["ci_low"] == 0 and same["ci_high"] == 0
    flat = floor.assign(**{p: 1 / 3 for p in PROB_COLUMNS})
    worse = _score_gap(flat, floor)
    expected = rsna_score(flat)["rsna_score"] - rsna_score(floor)["rsna_score"]
    assert worse["gap"] == pytest.approx(expected, abs=1e-12)
    assert worse["ci_low"] <= worse["gap"] <= worse["ci_high"]
    with pytest.raises(ValueError, match="the floor scores 1 study"):
        _score_gap(flat[flat["study_id"] != 100], floor)


def _discs(n_studies: int, accuracy: float, seed: int) -> pd.DataFrame:
    """Five targets a study: an informative latent (its grade probabilities) and a grader
    that calls the latent's grade with probability ``accuracy``, else a wrong one."""
    rng = np.random.default_rng(seed)
    n = 5 * n_studies
    latent = rng.choice(3, size=n, p=[0.6, 0.25, 0.15])
    oracle = np.full((n, 3), 0.05)
    oracle[np.arange(n), latent] = 0.9
    label = np.array([rng.choice(3, p=p) for p in oracle])
    right = rng.random(n) < accuracy
    predicted = np.where(right, latent, (latent + rng.integers(1, 3, size=n)) % 3)
    table = pd.DataFrame({"study_id": np.repeat(np.arange(n_studies), 5), "label": label})
    table["predicted"] = predicted
    table[PROB_COLUMNS] = oracle
    return table


def test_the_ceiling_gap_is_the_ceiling_minus_balanced_accuracy():
    discs = _discs(40, 0.7, seed=3)
    prior = np.array([0.6, 0.25, 0.15])
    counts = study_counts(40, 200, seed=0)
    point, resampled = ceiling_gap_resamples(discs, prior, counts)
    ceiling = oracle_balanced_accuracy(discs["label"], discs[PROB_COLUMNS].to_numpy(), prior)
    graded = balanced_accuracy(confusion(discs["label"].to_numpy(), discs["predicted"].to_numpy()))
    assert point == pytest.approx(ceiling - graded, abs=1e-12)
    assert resampled.shape == (200,) and np.isfinite(resampled).all()
    with pytest.raises(ValueError, match="39 study counts for 40 studies"):
        ceiling_gap_resamples(discs, prior, counts[:, :39])


def _split_gap(discs: pd.DataFrame) -> tuple:
    prior = np.array([0.6, 0.25, 0.15])
    return discs["study_id"].nunique(), partial(ceiling_gap_resamples, discs, prior)


def test_a_grader_that_falls_on_the_new_site_is_told_from_one_that_holds():
    in_site = _split_gap(_discs(60, 0.9, seed=5))
    holds = _summary(
        {"test": in_site, "external_test": _split_gap(_discs(60, 0.9, seed=6))}, SETTINGS
    )
    falls = _summary(
        {"test": in_site, "external_test": _split_gap(_discs(60, 0.5, seed=6))}, SETTINGS
    )
    assert holds["difference"]["ci_low"] < 0 < holds["difference"]["ci_high"]
    assert falls["difference"]["ci_low"] > 0.1
    assert falls["difference"]["gap"] == pytest.approx(
        falls["external_test"]["gap"] - falls["test"]["gap"]
    )
    assert set(_summary({"test": in_site}, SETTINGS)) == {"test"}


def test_the_resample_rows_hold_what_the_summary_is_read_on():
    gaps = {
        "test": _split_gap(_discs(30, 0.9, seed=5)),
        "external_test": _split_gap(_discs(25, 0.6, seed=6)),
    }
    resampled = split_resamples(gaps, SETTINGS)
    rows = resample_rows("spinal", resampled)
    assert len(rows) == 3 * SETTINGS["n_resamples"]
    back = {
        split: (own["point"].iloc[0], own.sort_values("resample")["gap"].to_numpy())
        for split, own in rows.groupby("split")
    }
    assert summarised(back, 0.95) == _summary(gaps, SETTINGS)
    assert resample_rows("spinal", {}).empty


def test_the_summary_shows_the_gaps_only_where_the_latent_is_known():
    from disc_grade.evaluation.render import markdown_report
    from disc_grade.evaluation.report_build import gaps_to_the_limit
    from disc_grade.evaluation.report_summary import summary_section

    empty = pd.DataFrame()
    real, resamples = gaps_to_the_limit(empty, empty, empty, empty, SETTINGS)
    assert resamples.empty
    assert real == {"available": False, "reason": real["reason"]} and "latent" in real["reason"]
    gap = {"gap": 0.09, "ci_low": 0.01, "ci_high": 0.18}
    phantom = {
        "available": True,
        "conditions": {"subarticular": {"test": gap, "external_test": gap, "difference": gap}},
        "rsna_score": {"test": gap, "external_test": gap, "difference": gap},
    }
    shown = markdown_report([summary_section({}, {}, {}, phantom)])
    assert (
        "| Subarticular stenosis: ceiling minus balanced accuracy | 0.090 [0.010, 0.180] |" in shown
    )
    assert (
        "| RSNA score minus its floor | 0.090 [0.010, 0.180] | 0.090 [0.010, 0.180] | 0.090"
        in shown
    )
    assert "RSNA score minus its floor" not in markdown_report([summary_section({}, {}, {}, real)])
