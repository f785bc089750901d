"""The left-out sites are read as inference would read them: where the chosen grader adapts its
BatchNorm to a new folder, the joint head is judged on the fold models' adapted features and
against the fold grader's adapted rows; otherwise, and for folds graded before adapted features
were kept, as trained."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from disc_grade.models.training.fold_plan import ADAPTED_OUT, SITE_OUT
from disc_grade.rsna import PROB_COLUMNS
from disc_grade.selection.chosen_features import site_rows_as_shipped
from disc_grade.selection.heads import SITE_SHIPPED, site_fold_parts, site_grader_rows
from disc_grade.selection.site_adapted import site_features_as_shipped
from tests.models.grading.test_fold_heads import CALIBRATION, _site_fold

GRADER = {"method": "temperature", "decision": "grader"}
KEYS = ["study_id", "condition", "level"]


def _adapted_fold():
    """One fold whose left-out site's features as trained are scrambled across its rows (a
    scanner that moves them) while its adapted features are the true ones, and whose grader's
    adapted rows are sharper than its rows as trained."""
    features, predictions, priors = _site_fold(shared_out=True)
    out = (features["split"] == SITE_OUT).to_numpy()
    scrambled = features.copy()
    order = np.random.default_rng(0).permutation(int(out.sum()))
    scrambled.loc[out, ["f0", "f1"]] = features.loc[out, ["f0", "f1"]].to_numpy()[order]
    table = pd.concat([scrambled, features[out].assign(split=ADAPTED_OUT)], ignore_index=True)
    adapted = predictions["adapted"].to_numpy(dtype=bool)
    sharp = predictions.loc[adapted, PROB_COLUMNS].to_numpy() ** 2
    predictions.loc[adapted, PROB_COLUMNS] = sharp / sharp.sum(axis=1, keepdims=True)
    return features, scrambled, table, predictions, priors


def test_the_adapted_rows_replace_the_left_out_site_only_where_the_grader_adapts(caplog):
    _, scrambled, table, _, _ = _adapted_fold()
    as_trained, adapted = site_features_as_shipped(table, adapt=False)
    assert not adapted and ADAPTED_OUT not in set(as_trained["split"])
    pd.testing.assert_frame_equal(as_trained, scrambled.reset_index(drop=True))
    shipped, adapted = site_features_as_shipped(table, adapt=True)
    assert adapted and ADAPTED_OUT not in set(shipped["split"])
    assert len(shipped) == len(scrambled)
    with caplog.at_level(logging.WARNING):
        old, adapted = site_features_as_shipped(scrambled, adapt=True)
    assert not adapted and "no adapted features" in caplog.text
    pd.testing.assert_frame_equal(old, scrambled.reset_index(drop=True))


@pytest.mark.parametrize("adapt", [True, False])
def test_the_joint_heads_site_rows_read_what_inference_would_ship(adapt):
    features, scrambled, table, predictions, priors = _adapted_fold()
    chosen = {"variant": "scratch", "adapt_batchnorm": adapt}
    rows = site_rows_as_shipped(table, predictions, chosen, GRADER, priors, CALIBRATION)
    read, carried = site_fold_parts(rows.assign(fold_left_out=-2))
    expected = (features if adapt else scrambled).drop(columns="variant")
    out = read[read["split"] == SITE_OUT].sort_values(KEYS)[["f0", "f1"]].to_numpy()
    np.testing.assert_allclose(
        out, expected[expected["split"] == SITE_OUT].sort_values(KEYS)[["f0", "f1"]].to_numpy()
    )
    given = site_grader_rows(predictions, "scratch", GRADER, priors, CALIBRATION, adapt)
    both = carried.merge(given, on=KEYS, suffixes=("", "_given"))
    assert len(both) == len(given)
    np.testing.assert_allclose(
        both[PROB_COLUMNS].to_numpy(), both[[f"{c}_given" for c in PROB_COLUMNS]].to_numpy()
    )
    plain = site_grader_rows(predictions, "scratch", GRADER, priors, CALIBRATION)
    assert adapt != np.allclose(
        plain.sort_values(KEYS)[PROB_COLUMNS].to_numpy(),
        given.sort_values(KEYS)[PROB_COLUMNS].to_numpy(),
    )
    assert set(SITE_SHIPPED) <= set(rows.columns)
