"""Grading a study's targets together across conditions: one head over all 25 targets.

The real labels tie a level's conditions together (a bulging disc narrows the canal and both
recesses at once; facets narrow both foramina) and a study's levels to each other. Each
condition's grader sees one target; the joint head reads every target of a study at once: the
chosen grader's features and logits of each target (standardised per condition, since each
condition has its own grader), tagged with its condition, level and side, through one layer of
self-attention (``models.context.ContextHead``). It is trained on the training split less a share
of its studies (on which it is stopped), so that validation, which it has not seen, decides per
condition whether it grades.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from disc_grade.models.grading.context import ContextHead, head_probabilities
from disc_grade.models.grading.context_grading import KEYS, features_of, fit_attention_head


def stacked(tables: dict[str, pd.DataFrame]) -> tuple[np.ndarray, pd.DataFrame, dict]:
    """Every condition's ``features_table`` in one: features standardised per condition on its
    training rows and zero-padded to the widest; the rows' keys; each condition's scaling.

    Raises:
        ValueError: no condition has a training row.
    """
    parts, keys, scaling = [], [], {}
    width = max((features_of(t).shape[1] for t in tables.values() if len(t)), default=0)
    for name, table in tables.items():
        if table.empty or "f0" not in table:
            continue
        x = features_of(table)
        train = table["split"].astype(str).to_numpy() == "train"
        if not train.any():
            continue
        mean, std = x[train].mean(axis=0), x[train].std(axis=0) + 1e-6
        scaling[name] = {"mean": mean, "std": std}
        parts.append(np.pad((x - mean) / std, ((0, 0), (0, width - x.shape[1]))))
        keys.append(table[[*KEYS, "split", "label"]])
    if not parts:
        raise ValueError("joint: no condition has training rows with features")
    index = pd.concat(keys, ignore_index=True).astype({"study_id": "int64"})
    return np.concatenate(parts).astype(np.float32), index, scaling


def fit_joint(tables: dict[str, pd.DataFrame], params: dict) -> dict:
    """The joint head (``fit_attention_head``) on ``stacked`` features."""
    features, index, scaling = stacked(tables)
    fitted = fit_attention_head(features, index, params)
    return {**fitted, "features": features, "index": index, "scaling": scaling}


def joint_raw(fitted: dict, rows: np.ndarray) -> np.ndarray:
    """[len(rows), 3] the head's probabilities for ``rows`` of the stacked index, each graded
    with every other listed row of its study (all its conditions)."""
    x = ((fitted["features"] - fitted["mean"]) / fitted["std"]).astype(np.float32)
    return head_probabilities(fitted["model"], x, fitted["index"], rows)


def as_bundle(fitted: dict, params: dict, per_condition: dict[str, dict]) -> dict:
    """What inference needs: the head's weights, the scalings, and per condition whether the
    head grades it (``kept``), its calibration and the grader it reads (``variant``)."""
    model: ContextHead = fitted["model"]
    return {
        "state": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "n_features": int(fitted["features"].shape[1]),
        "mean": torch.as_tensor(np.asarray(fitted["mean"], dtype=np.float32)),
        "std": torch.as_tensor(np.asarray(fitted["std"], dtype=np.float32)),
        "scaling": {
            name: {k: torch.as_tensor(np.asarray(v, dtype=np.float32)) for k, v in s.items()}
            for name, s in fitted["scaling"].items()
        },
        "params": {"width": int(params["width"]), "dropout": float(params["dropout"])},
        "conditions": per_condition,
    }


def kept_conditions(bundle: dict) -> list[str]:
    """The conditions the joint head grades (validation kept it for them)."""
    return [c for c, own in (bundle.get("conditions") or {}).items() if own.get("kept")]


def grade_jointly(bundle: dict, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The joint head's (uncalibrated) probabilities for every row of ``tables`` (each
    condition's ``features_table`` of the targets found in new studies): ``KEYS`` and
    ``PROB_COLUMNS``, each study's targets graded together."""
    from disc_grade.rsna import PROB_COLUMNS

    parts, keys = [], []
    width = int(bundle["n_features"])
    for name, table in tables.items():
        if table.empty or name not in bundle["scaling"]:
            continue
        scale = {k: np.asarray(v) for k, v in bundle["scaling"][name].items()}
        x = (features_of(table) - scale["mean"]) / scale["std"]
        parts.append(np.pad(x, ((0, 0), (0, width - x.shape[1]))))
        keys.append(table[KEYS])
    if not parts:
        return pd.DataFrame(columns=[*KEYS, *PROB_COLUMNS])
    index = pd.concat(keys, ignore_index=True).astype({"study_id": "int64"})
    x = (np.concatenate(parts) - np.asarray(bundle["mean"])) / np.asarray(bundle["std"])
    model = ContextHead(width, bundle["params"]["width"], True, dropout=bundle["params"]["dropout"])
    model.load_state_dict(bundle["state"])
    raw = head_probabilities(model.eval(), x.astype(np.float32), index, np.arange(len(index)))
    return index.assign(**dict(zip(PROB_COLUMNS, raw.T, strict=True)))
