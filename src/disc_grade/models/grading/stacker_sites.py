"""The study stacker judged on the sites the leave-site-out folds left out.

In-site the stacker is judged by cross-validation on the out-of-fold rows
(``stacker.judge_family``). A new scanner can still undo what it learnt: the relations between a
study's targets hold, but the graders' probabilities there are shaped otherwise. So, per site
a leave-site-out fold left out, each family's stacker is fitted again on the out-of-fold rows of
the studies of every other site and stacks what that fold's grader gives the left-out site's
studies (every condition's rows of the study, as inference stacks them); neither saw the site.
Pooled over the sites, it is judged against those given probabilities as in-site (the canal: its
family's term and the any-severe-spinal term together).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from disc_grade.evaluation.log_loss import weighted_log_loss
from disc_grade.models.grading.any_severe import canal_terms_gain
from disc_grade.models.grading.calibration import paired_gain
from disc_grade.models.grading.gate import wins
from disc_grade.models.grading.stacker import (
    corrected_probabilities,
    fit_correction,
    stack_inputs,
)
from disc_grade.rsna import FAMILIES, PROB_COLUMNS, SPINAL, condition_family

SITE = "fold_site"


def _labelled(table: pd.DataFrame, family: str) -> pd.DataFrame:
    mine = table["condition"].map(condition_family).eq(family) & (table["label"] >= 0)
    return table[mine.to_numpy()].reset_index(drop=True)


def _stacked_on_site(out_of_fold, site_rows, site, family, l2) -> tuple[pd.DataFrame, np.ndarray]:
    """One left-out ``site``'s labelled rows of ``family`` and their stacked probabilities, the
    stacker fitted on the out-of-fold rows of the studies at no such site."""
    own = site_rows[site_rows[SITE].astype(str) == site]
    rest = out_of_fold[~out_of_fold["study_id"].isin(own["study_id"])]
    fit_rows, judged = _labelled(rest, family), _labelled(own, family)
    if fit_rows.empty or judged.empty:
        return judged, np.empty((0, 3))
    x = stack_inputs(fit_rows, rest)
    fitted = fit_correction(x, fit_rows["label"].to_numpy(dtype=int), l2)
    return judged, corrected_probabilities(fitted, stack_inputs(judged, own))


def _verdict(judged: pd.DataFrame, stacked: np.ndarray, seed: int, confidence: float) -> dict:
    labels, studies = judged["label"].to_numpy(dtype=int), judged["study_id"].to_numpy()
    given = judged[PROB_COLUMNS].to_numpy(dtype=float)
    if (judged["condition"] == SPINAL).all():
        paired = canal_terms_gain(stacked, given, labels, studies, seed=seed)
    else:
        paired = paired_gain(stacked, given, labels, studies, seed=seed)
    return {
        "given_log_loss": weighted_log_loss(labels, given),
        "stacked_log_loss": weighted_log_loss(labels, stacked),
        **paired,
        "won": wins(paired["share_won"], confidence),
        "n_targets": int(len(judged)),
        "n_studies": int(len(np.unique(studies))),
    }


def left_out_site_gains(
    out_of_fold: pd.DataFrame, site_rows: pd.DataFrame, params: dict
) -> dict[str, dict]:
    """Per family, the stacker on the left-out sites against what the folds' graders give them.

    Args:
        out_of_fold: every condition's out-of-fold rows (``KEYS``, ``label``, ``PROB_COLUMNS``).
        site_rows: what each leave-site-out fold's grader gives the site it left out, every
            condition's (``KEYS``, ``label``, ``PROB_COLUMNS``, ``fold_site``); empty without
            site folds.
        params: ``joint.stacker`` (``l2``, ``seed``, ``confidence``).

    Returns:
        ``{family: {given_log_loss, stacked_log_loss, gain, share_won, won, n_targets,
        n_studies, sites}}`` for each family with labelled rows on a left-out site.
    """
    if site_rows.empty:
        return {}
    sites = sorted(site_rows[SITE].astype(str).unique())
    out: dict[str, dict] = {}
    for family in FAMILIES:
        parts = [
            _stacked_on_site(out_of_fold, site_rows, site, family, float(params["l2"]))
            for site in sites
        ]
        judged = [(rows, p) for rows, p in parts if len(rows)]
        if not judged:
            continue
        rows = pd.concat([r for r, _ in judged], ignore_index=True)
        stacked = np.concatenate([p for _, p in judged])
        verdict = _verdict(rows, stacked, int(params["seed"]), float(params["confidence"]))
        out[family] = {
            **verdict,
            "sites": [s for s, (r, _) in zip(sites, parts, strict=True) if len(r)],
        }
    return out
