"""The full RSNA 2024 score against a hand-computed value and against scikit-learn's log_loss."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import log_loss

from disc_grade.evaluation.rsna_score import condition_prior, rsna_score
from disc_grade.evaluation.rsna_targets import labels_long, score_submission
from disc_grade.rsna import (
    CONDITIONS,
    LEVELS,
    PROB_COLUMNS,
    SEVERITIES,
    SEVERITY_KEYS,
    label_column,
)


def _row(study, condition, level, label, p):
    return dict(
        study_id=study,
        condition=condition,
        level=level,
        label=label,
        **dict(zip(PROB_COLUMNS, p, strict=True)),
    )


def test_hand_computed_two_studies():
    rows = [
        _row(1, "spinal_canal_stenosis", "l1_l2", 0, (0.8, 0.1, 0.1)),
        _row(1, "spinal_canal_stenosis", "l4_l5", 2, (0.2, 0.3, 0.5)),
        _row(2, "spinal_canal_stenosis", "l4_l5", 1, (0.5, 0.4, 0.1)),
        _row(1, "left_neural_foraminal_narrowing", "l4_l5", 1, (0.25, 0.5, 0.25)),
        _row(2, "right_neural_foraminal_narrowing", "l5_s1", 0, (0.9, 0.05, 0.05)),
        _row(1, "left_subarticular_stenosis", "l4_l5", 2, (0.5, 0.25, 0.25)),
        _row(2, "right_subarticular_stenosis", "l4_l5", 0, (0.5, 0.25, 0.25)),
        _row(2, "right_subarticular_stenosis", "l5_s1", -1, (0.5, 0.25, 0.25)),  # blank: not scored
    ]
    out = rsna_score(pd.DataFrame(rows))
    spinal = -(1 * math.log(0.8) + 4 * math.log(0.5) + 2 * math.log(0.4)) / 7
    foraminal = -(2 * math.log(0.5) + 1 * math.log(0.9)) / 3
    subarticular = -(4 * math.log(0.25) + 1 * math.log(0.5)) / 5
    # study 1: max P(severe) 0.5, has a Severe level, weight 4; study 2: 0.1, none, weight 2
    any_severe = -(4 * math.log(0.5) + 2 * math.log(0.9)) / 6
    assert out["spinal_log_loss"] == pytest.approx(spinal)
    assert out["foraminal_log_loss"] == pytest.approx(foraminal)
    assert out["subarticular_log_loss"] == pytest.approx(subarticular)
    assert out["any_severe_spinal_log_loss"] == pytest.approx(any_severe)
    assert out["rsna_score"] == pytest.approx((spinal + foraminal + subarticular + any_severe) / 4)
    assert out["n_subarticular"] == 2


def _random_table(seed: int, n_studies: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for study in range(n_studies):
        for condition in CONDITIONS:
            for level in LEVELS:
                p = rng.dirichlet([2, 1, 1])
                rows.append(
                    _row(100 + study, condition, level, int(rng.choice(3, p=[0.7, 0.2, 0.1])), p)
                )
    return pd.DataFrame(rows)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_matches_sklearn_log_loss(seed):
    table = _random_table(seed, n_studies=6)
    out = rsna_score(table)
    weights = np.asarray([1.0, 2.0, 4.0])
    expected = []
    for family in ("spinal", "foraminal", "subarticular"):
        rows = table[table["condition"].str.contains(family)]
        y = rows["label"].to_numpy()
        expected.append(
            log_loss(np.eye(3)[y], rows[PROB_COLUMNS].to_numpy(), sample_weight=weights[y])
        )
    spinal = table[table["condition"] == "spinal_canal_stenosis"]
    g = spinal.assign(severe=spinal["label"] == 2, w=weights[spinal["label"]]).groupby("study_id")
    expected.append(
        log_loss(
            g["severe"].max().astype(int),
            np.clip(g["p_severe"].max(), 0, 1),
            sample_weight=g["w"].max(),
            labels=[0, 1],
        )
    )
    for family, value in zip(("spinal", "foraminal", "subarticular"), expected[:3], strict=True):
        assert out[f"{family}_log_loss"] == pytest.approx(value, rel=1e-9)
    assert out["any_severe_spinal_log_loss"] == pytest.approx(expected[3], rel=1e-9)
    assert out["rsna_score"] == pytest.approx(np.mean(expected), rel=1e-9)


def test_missing_family_gives_nan_score():
    table = _random_table(0, 2)
    out = rsna_score(table[~table["condition"].str.contains("subarticular")])
    assert math.isnan(out["rsna_score"]) and math.isnan(out["subarticular_log_loss"])
    assert math.isfinite(out["spinal_log_loss"])


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda t: t.drop(columns="p_severe"), "p_severe"),
        (lambda t: t.assign(condition="left_foramen"), "unknown condition"),
        (lambda t: t.assign(p_moderate=-0.1), "non-negative"),
        (lambda t: t.assign(label=3), "labels must be"),
    ],
)
def test_bad_tables_raise(change, message):
    with pytest.raises(ValueError, match=message):
        rsna_score(change(_random_table(0, 1)))


def _train_csv(n_studies: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for study in range(n_studies):
        row = {"study_id": 10 + study}
        for c in CONDITIONS:
            for lv in LEVELS:
                row[label_column(c, lv)] = SEVERITIES[int(rng.choice(3, p=[0.7, 0.2, 0.1]))]
        rows.append(row)
    train = pd.DataFrame(rows)
    train.loc[0, label_column(CONDITIONS[1], LEVELS[0])] = None
    return train


def test_score_submission_equals_long_table_score():
    train = _train_csv(4)
    labels = labels_long(train)
    assert len(labels) == 4 * 25 and (labels["label"] == -1).sum() == 1
    prior = condition_prior(labels)
    np.testing.assert_allclose(prior[PROB_COLUMNS].sum(axis=1), 1.0)
    graded = labels.merge(prior, on="condition", validate="m:1")
    submission = pd.DataFrame(
        {
            "row_id": [f"{r.study_id}_{r.condition}_{r.level}" for r in graded.itertuples()],
            **{k: graded[p] for k, p in zip(SEVERITY_KEYS, PROB_COLUMNS, strict=True)},
        }
    )
    assert score_submission(submission, train) == pytest.approx(rsna_score(graded))
    with pytest.raises(ValueError, match="no submission row"):
        score_submission(submission.iloc[3:], train)


def test_unknown_grade_is_named():
    train = _train_csv(2)
    train.loc[1, label_column(CONDITIONS[3], LEVELS[2])] = "Mild"
    with pytest.raises(ValueError, match="study 11, column left_subarticular_stenosis_l3_l4"):
        labels_long(train)
