"""The site a leave-site-out fold left out, as inference would read a new site: where the chosen
grader adapts its BatchNorm statistics to a new folder (``chosen_grader.adapt_batchnorm``), the
fold models' features of that site after adapting to it (split ``ADAPTED_OUT`` in the site
folds' features), else as trained. The heads' and the stacker's left-out-site verdicts read it,
with the fold grader's rows adapted or not alike (``fold_heads.site_grader_rows``)."""

from __future__ import annotations

import logging

import pandas as pd

from disc_grade.models.training.fold_plan import ADAPTED_OUT, SITE_OUT

logger = logging.getLogger(__name__)


def site_features_as_shipped(
    site_fold_features: pd.DataFrame, adapt: bool
) -> tuple[pd.DataFrame, bool]:
    """``site_fold_features`` with one set of left-out rows (``SITE_OUT``): the adapted ones
    where ``adapt`` and the folds wrote them, else those as trained; and whether they are
    adapted. Folds graded before adapted features were kept have none: their rows stay as
    trained, and the log says so."""
    if site_fold_features.empty or "split" not in site_fold_features:
        return site_fold_features, False
    split = site_fold_features["split"].astype(str)
    adapted = split == ADAPTED_OUT
    if adapt and not adapted.any():
        logger.warning(
            "leave-site-out: the grader adapts, but the site folds hold no adapted features "
            "(graded before they were kept); the heads are judged on the sites as trained"
        )
    if not adapt or not adapted.any():
        return site_fold_features[~adapted].reset_index(drop=True), False
    kept = site_fold_features[~adapted & (split != SITE_OUT)]
    moved = site_fold_features[adapted].assign(split=SITE_OUT)
    return pd.concat([kept, moved], ignore_index=True), True
