"""A study stacker: each target's grade probabilities refined by its study's other targets', fitted
on out-of-fold predictions (as the best RSNA 2024 solutions stacked theirs).

Per family (canal, foramina, recesses) a multinomial logistic correction to a target's own
calibrated log-probabilities (ridge-shrunk towards none, so that with nothing to learn the given
probabilities stay) reads its own log-probabilities; those of its level's other targets by role
(``conditions.level_neighbours``: a sided
target: the canal, the other side of its family, the same and the other side of the other
sided family; the canal: each sided family's mean over both sides); and the mean over its own
condition's other levels. Left and right share one model (roles, not sides). It is fitted on the
out-of-fold predictions of every training and validation study (each from a fold model that
never saw the study, calibrated as the condition ships), weighted by the metric's 1/2/4, so its
output is what the RSNA score reads. It is judged out of fold once more: cross-validated by
study on those rows against its input probabilities, and kept per family only where it lowers
the weighted log loss in ``confidence`` of the study resamples (the canal: the sum of its
family's term and the any-severe-spinal term, ``models.grading.any_severe``, since a correction
per target can lower one and raise the other). It moves probabilities; the
grade each target is called by stays its grader's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from disc_grade.conditions import level_neighbours
from disc_grade.evaluation.log_loss import WEIGHTS, weighted_log_loss
from disc_grade.evaluation.rsna_score import any_severe_spinal_loss
from disc_grade.models.grading.any_severe import canal_terms_gain
from disc_grade.models.grading.calibration import paired_gain, study_folds
from disc_grade.models.grading.gate import wins
from disc_grade.rsna import FAMILIES, PROB_COLUMNS, SPINAL, condition_family

KEYS = ["study_id", "condition", "level"]
MISSING = float(np.log(1.0 / 3.0))  # a neighbour not graded reads as no evidence


def _log_probs(table: pd.DataFrame) -> pd.DataFrame:
    probs = np.clip(table[PROB_COLUMNS].to_numpy(dtype=float), 1e-6, 1.0)
    probs = probs / probs.sum(axis=1, keepdims=True)
    logs = pd.DataFrame(np.log(probs), columns=["l0", "l1", "l2"], index=table.index)
    return pd.concat([table[KEYS].reset_index(drop=True), logs.reset_index(drop=True)], axis=1)


def _role_means(rows: pd.DataFrame, logs: pd.DataFrame, role: int) -> np.ndarray:
    """[len(rows), 3] the mean log-probabilities of each row's neighbours in ``role``."""
    wanted = rows[["study_id", "level"]].assign(
        row=np.arange(len(rows)),
        condition=[(level_neighbours(c) + [[]] * 4)[role] for c in rows["condition"]],
    )
    wanted = wanted.explode("condition").dropna(subset=["condition"])
    found = wanted.merge(logs, on=KEYS, how="inner")
    means = found.groupby("row")[["l0", "l1", "l2"]].mean()
    out = np.full((len(rows), 3), MISSING)
    out[means.index.to_numpy(dtype=int)] = means.to_numpy(dtype=float)
    return out


def _other_levels(rows: pd.DataFrame, logs: pd.DataFrame) -> np.ndarray:
    """[len(rows), 3] the mean log-probabilities of the row's condition at its study's other
    levels."""
    sums = logs.groupby(["study_id", "condition"])[["l0", "l1", "l2"]].agg(["sum", "count"])
    total = rows[["study_id", "condition"]].merge(
        sums.set_axis([f"{a}_{b}" for a, b in sums.columns], axis=1).reset_index(),
        on=["study_id", "condition"],
        how="left",
    )
    own = _log_probs(rows)[["l0", "l1", "l2"]].to_numpy(dtype=float)
    count = total["l0_count"].to_numpy(dtype=float)[:, None] - 1.0
    summed = total[["l0_sum", "l1_sum", "l2_sum"]].to_numpy(dtype=float) - own
    with np.errstate(invalid="ignore", divide="ignore"):
        means = summed / count
    return np.where(count > 0, means, MISSING)


def stack_inputs(rows: pd.DataFrame, study_table: pd.DataFrame) -> np.ndarray:
    """[len(rows), F] what the stacker reads of each of ``rows`` (one family), from every graded
    target of its study in ``study_table`` (``KEYS`` and ``PROB_COLUMNS``): 12 columns for the
    canal, 18 for a sided family."""
    rows = rows.reset_index(drop=True)
    graded = np.isfinite(study_table[PROB_COLUMNS].to_numpy(dtype=float)).all(axis=1)
    logs = _log_probs(study_table[graded])
    own = _log_probs(rows)[["l0", "l1", "l2"]].to_numpy(dtype=float)
    n_roles = len(level_neighbours(str(rows["condition"].iloc[0]))) if len(rows) else 0
    parts = [own, *[_role_means(rows, logs, r) for r in range(n_roles)]]
    return np.concatenate([*parts, _other_levels(rows, logs)], axis=1)


def _logits(fitted: dict, x: np.ndarray) -> np.ndarray:
    """The target's own log-probabilities (``x``'s first three columns) plus the correction."""
    weights = np.asarray(fitted["coef"], dtype=float)
    return x[:, :3] + x @ weights + np.asarray(fitted["intercept"], dtype=float)


def corrected_probabilities(fitted: dict, x: np.ndarray) -> np.ndarray:
    """[len(x), 3] the stacked probabilities of ``fitted`` (``fit_correction``) given inputs
    ``x`` (``stack_inputs``)."""
    logits = _logits(fitted, x)
    logits -= logits.max(axis=1, keepdims=True)
    probs = np.exp(logits)
    return probs / probs.sum(axis=1, keepdims=True)


def fit_correction(x: np.ndarray, labels: np.ndarray, l2: float) -> dict:
    """The correction to the given log-probabilities that minimises the weighted log loss plus
    ``l2`` times half its squared size: with nothing to learn, the given probabilities stay."""
    from scipy.optimize import minimize

    n_features = x.shape[1]
    weights = WEIGHTS[labels] / WEIGHTS[labels].sum()
    onehot = np.eye(3)[labels]

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        fitted = {"coef": theta[:-3].reshape(n_features, 3), "intercept": theta[-3:]}
        logits = _logits(fitted, x)
        logits -= logits.max(axis=1, keepdims=True)
        log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        value = -(weights * (onehot * log_probs).sum(axis=1)).sum()
        d_logits = weights[:, None] * (np.exp(log_probs) - onehot)
        d_coef = x.T @ d_logits + l2 * fitted["coef"]
        value += 0.5 * l2 * float((fitted["coef"] ** 2).sum())
        return float(value), np.concatenate([d_coef.ravel(), d_logits.sum(axis=0)])

    found = minimize(loss, np.zeros(n_features * 3 + 3), jac=True, method="L-BFGS-B")
    return {
        "coef": found.x[:-3].reshape(n_features, 3).tolist(),
        "intercept": found.x[-3:].tolist(),
    }


def judge_family(rows: pd.DataFrame, study_table: pd.DataFrame, params: dict) -> dict:
    """One family's stacker cross-validated by study on its out-of-fold ``rows`` against their
    own probabilities (``paired_gain``), then fitted on all of them; ``kept`` where it wins in
    ``confidence`` of the study resamples."""
    rows = rows.reset_index(drop=True)
    x, labels = stack_inputs(rows, study_table), rows["label"].to_numpy(dtype=int)
    studies = rows["study_id"].to_numpy()
    crossed = np.zeros((len(rows), 3))
    for held in study_folds(studies, int(params["folds"])):  # as calibration deals them
        rest = np.setdiff1d(np.arange(len(rows)), held)
        fitted = fit_correction(x[rest], labels[rest], float(params["l2"]))
        crossed[held] = corrected_probabilities(fitted, x[held])
    given = rows[PROB_COLUMNS].to_numpy(dtype=float)
    figures = {
        "given_log_loss": weighted_log_loss(labels, given),
        "stacked_log_loss": weighted_log_loss(labels, crossed),
    }
    if (rows["condition"] == SPINAL).all():  # the canal: its family's term and any-severe's
        paired = canal_terms_gain(crossed, given, labels, studies, seed=int(params["seed"]))
        figures |= {
            "given_any_severe": any_severe_spinal_loss(rows),
            "stacked_any_severe": any_severe_spinal_loss(
                rows.assign(**dict(zip(PROB_COLUMNS, crossed.T, strict=True)))
            ),
        }
    else:
        paired = paired_gain(crossed, given, labels, studies, seed=int(params["seed"]))
    return {
        **fit_correction(x, labels, float(params["l2"])),
        "kept": wins(paired["share_won"], params["confidence"]),
        "out_of_fold": {
            **figures,
            **paired,
            "n_targets": int(len(rows)),
            "n_studies": int(len(np.unique(studies))),
        },
    }


def fit_stacker(out_of_fold: pd.DataFrame, params: dict) -> dict:
    """Per family with out-of-fold rows, its stacker judged and fitted (``judge_family``).

    Raises:
        ValueError: ``folds`` under 2 or ``confidence`` outside (0, 1].
    """
    if int(params["folds"]) < 2 or not 0 < float(params["confidence"]) <= 1:
        raise ValueError(
            "joint.stacker: folds must be >= 2 and confidence in (0, 1], got "
            f"{params['folds']} and {params['confidence']}"
        )
    family = out_of_fold["condition"].map(condition_family)
    families = {}
    for name in FAMILIES:
        rows = out_of_fold[family == name]
        if rows["study_id"].nunique() >= int(params["folds"]):
            families[name] = judge_family(rows, out_of_fold, params)
    return {"families": families}


def apply_stacker(model: dict, table: pd.DataFrame) -> pd.DataFrame:
    """``table`` (every target of its studies, ``KEYS`` and ``PROB_COLUMNS``) with the rows of
    each family the stacker keeps given its probabilities; the rest as they were."""
    out = table.copy()
    family = out["condition"].map(condition_family).to_numpy()
    for name, fitted in (model or {}).get("families", {}).items():
        where = np.flatnonzero(family == name)
        if not fitted.get("kept") or not len(where):
            continue
        probs = corrected_probabilities(fitted, stack_inputs(table.iloc[where], table))
        out.loc[out.index[where], PROB_COLUMNS] = probs
    return out
