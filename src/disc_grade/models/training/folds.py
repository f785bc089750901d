"""Folds: every candidate grader trained again without the studies a fold leaves out
(``fold_plan``: a study fold, or a training site), then graded on them.

A study fold gives every training and validation study an out-of-fold prediction from a model
that never saw it, so that a choice sees every non-test study instead of the validation split
alone; its models also grade the test studies (the fold models' average is reported beside the
shipped grader, and can ship). A site fold grades the site it leaves out as a scanner the model
never saw: as trained, and with its BatchNorm statistics re-estimated on that site's crops
(AdaBN, ``models.grading.adapt``). Per fold the contrastive encoder is pretrained again on its
training rows where a variant needs it, and every variant fine-tuned on them, its epoch chosen
on its validation rows. A fold reads only the crops, their index, the sites and the recipe, so
each can run apart (``pipelines/folds``, one DVC cell per fold).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from disc_grade.models.grading.adapt import adapt_batchnorm
from disc_grade.models.grading.context_grading import features_table, grader_features
from disc_grade.models.grading.predict import predict, prediction_table
from disc_grade.models.training.checkpoint import fingerprint, run_key
from disc_grade.models.training.device import select_device
from disc_grade.models.training.engine import LoopConfig
from disc_grade.models.training.finetune import finetune_grader
from disc_grade.models.training.fold_plan import (
    ADAPTED_OUT,
    FOLD_SPLITS,
    RULES,
    Fold,
    fold_index,
)
from disc_grade.models.training.pretrain import pretrain_encoder

logger = logging.getLogger(__name__)
Graded = tuple[pd.DataFrame, pd.DataFrame, dict[str, dict]]  # predictions, features, weights


def _fold_encoder(rois: np.ndarray, index: pd.DataFrame, pretraining: dict) -> dict:
    train = np.flatnonzero(index["split"].to_numpy() == "train")
    labels = index["label"].to_numpy(dtype=np.int64)[train]
    weights, _ = pretrain_encoder(rois[train], pretraining, labels=labels)
    return weights


def fold_features(
    model, rois: np.ndarray, index: pd.DataFrame, out_split: str, device, variant: str
) -> pd.DataFrame:
    """A fold model's ``features_table`` (encoder features and logits) of the fold's training,
    validation and ``out_split`` rows, with ``variant``: what a head reading a grader's features
    is fitted and judged on out of fold."""
    rows = np.flatnonzero(index["split"].isin([*FOLD_SPLITS, out_split]).to_numpy())
    values = grader_features(model, rois[rows], device)
    return features_table(values, index.iloc[rows].reset_index(drop=True)).assign(variant=variant)


def grade_fold(
    rois: np.ndarray,
    index: pd.DataFrame,
    pretraining: dict,
    finetuning: dict,
    variants: list[dict],
    kind: str,
) -> tuple[list[pd.DataFrame], list[pd.DataFrame], dict[str, dict]]:
    """One fold of ``kind`` (``index``'s splits as ``fold_index`` gives them): every variant
    fine-tuned on its training rows, and per variant its ``predictions`` rows on the fold's
    other rows, with ``adapted``; the left-out rows once more with BatchNorm adapted to them
    where the kind adapts. Also each variant's features of the fold's training, validation and
    left-out rows (``fold_features``; the left-out rows once more adapted, split
    ``ADAPTED_OUT``, where it adapts) and its weights (``state_dict``, by variant)."""
    rule = RULES[kind]
    needs_encoder = any(v["init"] == "pretrained" for v in variants)
    encoder = _fold_encoder(rois, index, pretraining) if needs_encoder else None
    device = select_device(LoopConfig.from_params(finetuning).device)
    out_rows = np.flatnonzero(index["split"].to_numpy() == rule.out_split)
    tables, described, weights = [], [], {}
    for variant in variants:
        name = variant["name"]
        model, _, plain = finetune_grader(rois, index, encoder, finetuning, variant)
        tables.append(plain.assign(adapted=False))
        described.append(fold_features(model, rois, index, rule.out_split, device, name))
        weights[name] = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        if not rule.adapt:
            continue
        adapted_model = adapt_batchnorm(model, rois[out_rows], device)
        probs, points = predict(adapted_model, rois, out_rows, device)
        out_index = index.iloc[out_rows]
        adapted = prediction_table(out_index, probs, points, name, rois.shape[-1])
        tables.append(adapted.assign(adapted=True))
        if len(out_rows):
            values = grader_features(adapted_model, rois[out_rows], device)
            adapted_features = features_table(values, out_index.reset_index(drop=True))
            described.append(adapted_features.assign(variant=name, split=ADAPTED_OUT))
    return tables, described, weights


def train_fold(
    rois: np.ndarray,
    index: pd.DataFrame,
    sites: pd.Series | None,
    fold: Fold,
    pretraining: dict,
    finetuning: dict,
    variants: list[dict],
) -> Graded:
    """Fold ``fold`` alone (``grade_fold``): per variant, its ``predictions`` rows (with
    ``adapted`` and the kind's fold column, ``fold_left_out`` or ``fold_site``), its features
    and its weights (``{variant: state_dict}``). Empty for a site fold the other sites cannot
    train (``fold_index``)."""
    rule = RULES[fold.kind]
    selected = fold_index(index, sites, fold)
    if selected is None:
        return pd.DataFrame(), pd.DataFrame(), {}
    rows, fold_rows = selected
    logger.info(
        "%s fold %d ('%s' left out): %d ROIs graded; %d training ROIs",
        fold.kind,
        fold.k,
        fold.group,
        int((fold_rows["split"] == rule.out_split).sum()),
        int((fold_rows["split"] == "train").sum()),
    )
    tables, described, weights = grade_fold(
        rois[rows], fold_rows, pretraining, finetuning, variants, fold.kind
    )
    label = {rule.column: fold.group}
    return (
        pd.concat([t.assign(**label) for t in tables], ignore_index=True),
        pd.concat([t.assign(**label) for t in described], ignore_index=True),
        weights,
    )


def joined(graded: list[tuple[Fold, Graded]]) -> Graded:
    """Folds of one kind together: their predictions and features, and their weights by variant
    and fold (``{variant: {str(k): state_dict}}``), which the fold models' average ships with.
    Empty without a fold that graded rows."""
    tables = [(fold, g) for fold, g in graded if len(g[0])]
    if not tables:
        return pd.DataFrame(), pd.DataFrame(), {}
    weights: dict[str, dict] = {}
    for fold, (_, _, states) in tables:
        for variant, state in states.items():
            weights.setdefault(variant, {})[str(fold.k)] = state
    return (
        pd.concat([g[0] for _, g in tables], ignore_index=True),
        pd.concat([g[1] for _, g in tables], ignore_index=True),
        weights,
    )


def fold_key(
    rois: np.ndarray, index: pd.DataFrame, pretraining: dict, finetuning: dict, variants: list
) -> str:
    """What a fold's results depend on, as one digest: the crops, their index (splits and
    folds included), the settings the fold models train with and the training code
    (``checkpoint.run_key``). A fold graded with another key is stale."""
    key = run_key(rois=rois, index=index, settings=[pretraining, finetuning, variants])
    return fingerprint(key)
