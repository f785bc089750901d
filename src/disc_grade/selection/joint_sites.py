"""The joint head judged on the sites the leave-site-out folds left out: fitted once per such
fold on every condition's fold features (the other sites' training rows), calibrated on the
fold's validation rows, and compared per condition with that fold's grader on the left-out
site's rows (``selection.heads.judged_out_of_fold``)."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from disc_grade.conditions import SPECS
from disc_grade.models.grading.fold_heads import FOLD, joint_out_of_fold, too_small
from disc_grade.selection.heads import (
    as_study_folds,
    judged_out_of_fold,
    site_fold_parts,
)

logger = logging.getLogger(__name__)


def foldable(folds: dict[str, pd.DataFrame], what: str = "out of fold") -> dict[str, pd.DataFrame]:
    """The conditions whose fold features can fit the joint head on every fold; the others are
    left out of it (logged: ``what`` names the folds)."""
    out = {}
    for name, table in folds.items():
        if table.empty:
            continue
        if reason := too_small(table):
            logger.warning("joint[%s]: not chosen %s, %s", name, what, reason)
            continue
        out[name] = table
    return out


def _numbered(site_features: dict[str, pd.DataFrame]) -> tuple[dict[str, pd.DataFrame], list]:
    """Every condition's site fold features in the study folds' form, a site's fold numbered
    alike in all of them (its place among every condition's sites, by name)."""
    present = {c: t for c, t in site_features.items() if not t.empty}
    sites = sorted({str(s) for t in present.values() for s in t["fold_site"].unique()})
    return {c: as_study_folds(t, sites) for c, t in present.items()}, sites


def judged_condition(
    name: str,
    rows: pd.DataFrame,
    against: pd.DataFrame,
    label_priors: pd.DataFrame,
    params: dict[str, Any],
) -> dict | None:
    """The joint head's fold ``rows`` of condition ``name`` judged against the condition's own
    fold rows ``against`` with the joint block's calibration, seed and confidence
    (``fold_heads.judged_out_of_fold``); None without either."""
    if rows.empty:
        return None
    return judged_out_of_fold(
        rows[rows["condition"].isin(SPECS[name].conditions).to_numpy()],
        against,
        label_priors,
        params["calibration"],
        int(params["seed"]),
        float(params["confidence"]),
    )


def left_out_site_verdicts(
    joint_features: dict[str, pd.DataFrame], label_priors: pd.DataFrame, params: dict[str, Any]
) -> dict[str, dict | None]:
    """Per condition, the joint head fitted per leave-site-out fold (``joint_out_of_fold``) on
    every condition's site fold rows of its ``joint_features`` (``fold_heads.site_fold_parts``)
    and judged on the sites the folds left out against each fold's grader there
    (``judged_out_of_fold``), with the ``sites``; None for a condition without site folds (or
    one too small to fit the head on)."""
    parts = {c: site_fold_parts(table) for c, table in joint_features.items()}
    numbered, sites = _numbered({c: features for c, (features, _) in parts.items()})
    usable = foldable(numbered, "on the left-out sites")
    rows = joint_out_of_fold(usable, params) if usable else pd.DataFrame()
    verdicts: dict[str, dict | None] = {name: None for name in joint_features}
    for name in usable:
        verdict = judged_condition(name, rows, parts[name][1], label_priors, params)
        if verdict is not None:
            own = rows[rows["condition"].isin(SPECS[name].conditions).to_numpy()]
            verdict["sites"] = [sites[k] for k in sorted(own[FOLD].unique())]
        verdicts[name] = verdict
    return verdicts
