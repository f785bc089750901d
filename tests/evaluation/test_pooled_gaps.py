"""Gaps pooled over cohorts: the mean of their points, an interval that narrows as cohorts are
added (not one that merely concatenates them), cohorts decorrelated even where their resamples
were drawn alike, and clear errors naming the run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from disc_grade.evaluation.metrics import interval
from disc_grade.evaluation.pooled_gaps import RESAMPLES, forest_figure, main, pooled
from disc_grade.evaluation.site_gap import resample_rows

R = 2000


def _cohort(point: float, spread: float, seed: int, splits=("test", "external_test")):
    """A ``gap_resamples`` table: per split, ``R`` resamples around ``point``."""
    rng = np.random.default_rng(seed)
    resampled = {s: (point, point + spread * rng.standard_normal(R)) for s in splits}
    if len(splits) == 2:
        resampled["difference"] = (0.0, resampled["external_test"][1] - resampled["test"][1])
    return pd.concat(
        [resample_rows("spinal", resampled), resample_rows("rsna_score", resampled)],
        ignore_index=True,
    )


def _width(row) -> float:
    return float(row["ci_high"] - row["ci_low"])


def _row(table: pd.DataFrame, target: str, split: str):
    return table[(table["target"] == target) & (table["split"] == split)].iloc[0]


def test_one_cohort_pools_to_its_own_interval():
    cohort = _cohort(0.1, 0.05, seed=1)
    table = pooled({"a": cohort})
    row = _row(table, "spinal", "test")
    own = cohort[(cohort["target"] == "spinal") & (cohort["split"] == "test")]
    assert row["mean"] == pytest.approx(0.1)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(interval(own["gap"].to_numpy(), 0.95))
    assert list(table["split"].unique()) == ["test", "external_test", "difference"]
    assert list(table["target"].unique()) == ["spinal", "rsna_score"]  # as the report lists them


def test_the_mean_of_four_cohorts_has_half_the_width():
    cohorts = {f"c{k}": _cohort(0.05 * k, 0.05, seed=k) for k in range(4)}
    table = pooled(cohorts)
    row = _row(table, "rsna_score", "test")
    assert row["mean"] == pytest.approx(np.mean([0.0, 0.05, 0.10, 0.15]))
    assert [row[f"c{k}"] for k in range(4)] == pytest.approx([0.0, 0.05, 0.10, 0.15])
    single = _width(_row(pooled({"c0": cohorts["c0"]}), "rsna_score", "test"))
    assert _width(row) == pytest.approx(single / 2, rel=0.15)
    assert row["n_cohorts"] == 4


def test_cohorts_resampled_alike_are_decorrelated():
    same = _cohort(0.1, 0.05, seed=3)  # the same draws twice: fully paired if not shuffled
    row = _row(pooled({"a": same, "b": same.copy()}), "spinal", "test")
    single = _width(_row(pooled({"a": same}), "spinal", "test"))
    assert _width(row) == pytest.approx(single / np.sqrt(2), rel=0.15)


def test_only_what_every_cohort_has_is_pooled():
    table = pooled({"a": _cohort(0.1, 0.05, 1), "b": _cohort(0.1, 0.05, 2, splits=("test",))})
    assert set(table["split"]) == {"test"}
    assert pooled({"a": resample_rows("", {})}).empty  # real data: nothing to pool


def test_bad_tables_are_named():
    good = _cohort(0.1, 0.05, seed=1)
    with pytest.raises(ValueError, match="resampled a different number of times: .*'short': 10"):
        pooled({"good": good, "short": good[good["resample"] < 10]})
    with pytest.raises(
        ValueError, match=r"odd: not a gap_resamples table \(no column\(s\) \['gap'\]"
    ):
        pooled({"odd": good.drop(columns="gap")})
    with pytest.raises(ValueError, match="twice: each target and split needs resamples"):
        pooled({"twice": pd.concat([good, good])})
    with pytest.raises(ValueError, match="at least one cohort"):
        pooled({})


def test_the_forest_shows_each_cohort_and_the_mean():
    cohorts = {"a": _cohort(0.1, 0.05, 1), "b": _cohort(0.2, 0.05, 2)}
    table = pooled(cohorts)
    fig = forest_figure(cohorts, table)
    assert [ax.get_title() for ax in fig.axes] == ["in-site test", "held-out site", "difference"]
    means = [line for line in fig.axes[0].lines if line.get_marker() == "D"]
    assert [m.get_xdata()[0] for m in means] == pytest.approx(
        list(table.loc[table["split"] == "test", "mean"])
    )


def test_the_command_reads_run_directories(tmp_path, capsys):
    for k in range(2):
        file = tmp_path / f"run{k}" / RESAMPLES
        file.parent.mkdir(parents=True)
        _cohort(0.1 * k, 0.05, seed=k).to_parquet(file)
    out, plot = tmp_path / "pooled.json", tmp_path / "forest.png"
    runs = [str(tmp_path / "run0"), str(tmp_path / "run1")]
    assert main([*runs, "--json", str(out), "--plot", str(plot)]) == 0
    assert plot.read_bytes()[:4] == b"\x89PNG"
    shown = capsys.readouterr().out
    assert "| spinal | difference |" in shown and "95% interval of the mean" in shown
    assert len(pd.read_json(out)) == 6
    with pytest.raises(FileNotFoundError, match="nowhere: no data/08_reporting"):
        main([str(tmp_path / "nowhere")])
