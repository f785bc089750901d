"""The grader's choice once leave-site-out folds weigh in: a candidate that is best in-site but
breaks on sites it never saw loses, adaptation is kept only where it won, and without folds the
choice is in-site and says why."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from disc_grade.models.training.fold_plan import SITE_OUT
from disc_grade.rsna import PROB_COLUMNS, SPINAL
from disc_grade.selection.shipped import adapts
from disc_grade.selection.sites import left_out_site_scores
from disc_grade.selection.variants import choose_grader
from tests.models.training.every_fold import every_fold
from tests.models.training.test_site_folds import CONTRASTIVE, _cohort
from tests.models.training.tiny import PARAMS, VARIANT

CALIBRATION = {
    "methods": ["as_trained", "temperature"],
    "l2": 0.01,
    "folds": 2,
    "decisions": ["grader"],
    "confidence": 0.9,
}
PRIORS = pd.DataFrame(
    {
        "condition": [SPINAL],
        "weighted": [False],
        **dict(zip(PROB_COLUMNS, [[0.6], [0.3], [0.1]], strict=True)),
    }
)


def _validation(losses: dict[str, float]) -> tuple[pd.DataFrame, dict]:
    labels = np.tile([0, 1, 2], 10)
    probs = np.full((30, 3), 0.2) + 0.6 * np.eye(3)[labels]
    tables = [
        pd.DataFrame(
            {
                "variant": v,
                "split": "validation",
                "label": labels,
                "predicted": labels,
                **dict(zip(PROB_COLUMNS, probs.T, strict=True)),
            }
        )
        for v in losses
    ]
    calibration = {
        v: {"method": "vector", "cross_validated_log_loss": {"vector": loss}}
        for v, loss in losses.items()
    }
    return pd.concat(tables), calibration


def _site(loss: float, adapted: float, won: float) -> dict:
    return {
        "sites": ["A"],
        "n_targets": 30,
        "n_studies": 10,
        "log_loss": loss,
        "log_loss_adapted": adapted,
        "adapted_share_won": won,
    }


def test_a_grader_that_breaks_on_a_new_site_loses_the_choice():
    predictions, calibration = _validation({"contrastive": 0.62, "scratch": 0.55, "frozen": 0.70})
    site = {
        "contrastive": _site(0.66, 0.58, 0.95),
        "scratch": _site(0.90, 0.88, 0.6),
        "frozen": _site(0.80, 0.81, 0.1),
    }
    params = {"max_sites": None, "weight": 0.5, "confidence": 0.9}
    chosen = choose_grader(predictions, calibration, {"by": "log_loss"}, site, params)
    assert chosen["chosen_in_site"] == "scratch" and chosen["variant"] == "contrastive"
    weighed = chosen["leave_site_out"]
    assert weighed["used"] and weighed["by_variant"]["contrastive"]["adapt_batchnorm"]
    assert not weighed["by_variant"]["scratch"]["adapt_batchnorm"]  # won 60% < 90%
    assert chosen["validation"]["contrastive"]["score"] == pytest.approx(-(0.31 + 0.29))
    assert chosen["adapt_batchnorm"]
    assert adapts({"adapt_batchnorm": None}, chosen)
    assert not adapts({"adapt_batchnorm": False}, chosen)
    with pytest.raises(ValueError, match="adapt_batchnorm"):
        adapts({"adapt_batchnorm": "yes"}, chosen)
    # weight 0: the in-site choice
    in_site = choose_grader(predictions, calibration, {"by": "log_loss"}, site, {"weight": 0.0})
    assert in_site["variant"] == "scratch"
    with pytest.raises(ValueError, match="weight"):
        choose_grader(predictions, calibration, {"by": "log_loss"}, site, {"weight": 1.5})


def test_without_folds_the_choice_is_in_site_and_says_why():
    predictions, calibration = _validation({"contrastive": 0.62, "scratch": 0.55, "frozen": 0.70})
    chosen = choose_grader(predictions, calibration, {"by": "log_loss"}, {}, {"max_sites": 0})
    assert chosen["variant"] == "scratch" and not chosen["adapt_batchnorm"]
    assert not chosen["leave_site_out"]["used"]
    assert "max_sites is 0" in chosen["leave_site_out"]["why"]
    assert not adapts({"adapt_batchnorm": None}, chosen)


def test_the_folds_scores_are_the_left_out_rows_calibrated_as_shipped():
    rois, index, sites = _cohort()
    folds = every_fold(rois, index, sites, PARAMS, PARAMS, [VARIANT, CONTRASTIVE], 2)["site"][0]
    scores = left_out_site_scores(folds, PRIORS, CALIBRATION, {"n_resamples": 50})
    assert set(scores) == {"scratch", "contrastive"}
    left_out = folds[(folds["split"] == SITE_OUT) & ~folds["adapted"]]
    for variant, figures in scores.items():
        own = left_out[left_out["variant"] == variant]
        assert figures["sites"] == ["A", "B"]  # the two largest training sites
        assert (
            figures["n_targets"] == len(own) and figures["n_studies"] == own["study_id"].nunique()
        )
        assert np.isfinite([figures["log_loss"], figures["log_loss_adapted"]]).all()
        assert 0 <= figures["adapted_share_won"] <= 1
    assert left_out_site_scores(folds.iloc[:0], PRIORS, CALIBRATION, {}) == {}
