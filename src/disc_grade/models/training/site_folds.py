"""Leave-site-out folds: every candidate grader trained again without one training site, then
graded on that site, as it would grade a scanner it never saw.

A choice made on in-site validation cannot see how a candidate fares on a new scanner. Here each
of up to ``max_sites`` training sites is left out in turn: the contrastive encoder is pretrained
again and every variant fine-tuned again on the training studies of the other sites (its epoch
chosen on their validation studies), then grades the left-out site's training and validation
studies twice: as trained, and with its BatchNorm statistics re-estimated on that site's crops
(AdaBN, ``models.grading.adapt``). No fold sees the site it scores, and no fold reads a test
study.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from disc_grade.dicom.series import UNKNOWN_SITE
from disc_grade.models.grading.adapt import adapt_batchnorm
from disc_grade.models.grading.context_grading import features_table, grader_features
from disc_grade.models.grading.predict import predict, prediction_table
from disc_grade.models.training.device import select_device
from disc_grade.models.training.engine import LoopConfig
from disc_grade.models.training.finetune import finetune_grader
from disc_grade.models.training.pretrain import pretrain_encoder

logger = logging.getLogger(__name__)
SITE_OUT = "site_out"  # the split a fold gives the site it leaves out
ADAPTED_OUT = "site_out_adapted"  # the left-out site's features once BatchNorm adapted to it
FOLD_SPLITS = ("train", "validation")


def fold_sites(sites: pd.Series, splits: pd.Series, max_sites: int | None) -> list[str]:
    """The sites to leave out in turn: known sites with training studies, the largest first
    (by training studies, then by name), at most ``max_sites`` (None: all). Fewer than two
    training sites leave nothing out: a fold would have nothing to train on.

    Args:
        sites, splits: per study (or per row), its site and split.

    Raises:
        ValueError: ``max_sites`` below 0.
    """
    if max_sites is not None and int(max_sites) < 0:
        raise ValueError(f"leave_site_out.max_sites must be null or >= 0, got {max_sites}")
    train = pd.Series(sites[(splits == "train").to_numpy()].to_numpy(), dtype="string")
    counts = train[train.notna() & (train != UNKNOWN_SITE)].value_counts()
    if len(counts) < 2:
        return []
    order = sorted(counts.index, key=lambda s: (-int(counts[s]), str(s)))
    return [str(s) for s in order[: None if max_sites is None else int(max_sites)]]


def fold_rows(
    groups: np.ndarray, splits: np.ndarray, group: object, out_split: str = SITE_OUT
) -> tuple[np.ndarray, np.ndarray]:
    """The fold that leaves ``group`` out (a site, or a fold of studies): the positions of its
    rows (every training and validation row; no test row) and the split each gets there
    (``group``'s rows: ``out_split``, the others their own)."""
    rows = np.flatnonzero(np.isin(splits, FOLD_SPLITS))
    fold_split = np.where(groups[rows] == group, out_split, splits[rows]).astype(object)
    return rows, fold_split


def _fold_encoder(rois: np.ndarray, index: pd.DataFrame, pretraining: dict) -> dict:
    train = np.flatnonzero(index["split"].to_numpy() == "train")
    labels = index["label"].to_numpy(dtype=np.int64)[train]
    weights, _ = pretrain_encoder(rois[train], pretraining, labels=labels)
    return weights


def grade_fold(
    rois: np.ndarray,
    index: pd.DataFrame,
    pretraining: dict,
    finetuning: dict,
    variants: list[dict],
    out_split: str = SITE_OUT,
    adapt: bool = True,
    features: bool = False,
) -> tuple[list[pd.DataFrame], list[pd.DataFrame], dict[str, dict]]:
    """One fold (``index``'s splits as ``fold_rows`` gives them): the encoder pretrained again on
    its training rows where a variant needs it, every variant fine-tuned on them, and its
    ``predictions`` rows on the fold's validation and ``out_split`` rows, with ``adapted``; the
    ``out_split`` rows once more with BatchNorm adapted to them where ``adapt``. Where
    ``features``, also each variant's features of the fold's training, validation and
    ``out_split`` rows (``fold_features``), for the heads that read a grader's features (the
    ``out_split`` rows once more adapted, split ``ADAPTED_OUT``, where ``adapt``), and
    each variant's weights (its ``state_dict``, by variant), which the fold models' average
    ships with."""
    needs_encoder = any(v["init"] == "pretrained" for v in variants)
    encoder = _fold_encoder(rois, index, pretraining) if needs_encoder else None
    device = select_device(LoopConfig.from_params(finetuning).device)
    out_rows = np.flatnonzero(index["split"].to_numpy() == out_split)
    tables, described, weights = [], [], {}
    for variant in variants:
        model, _, plain = finetune_grader(rois, index, encoder, finetuning, variant)
        tables.append(plain.assign(adapted=False))
        if features:
            described.append(fold_features(model, rois, index, out_split, device, variant["name"]))
            weights[variant["name"]] = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        if adapt:
            adapted_model = adapt_batchnorm(model, rois[out_rows], device)
            probs, points = predict(adapted_model, rois, out_rows, device)
            adapted = prediction_table(
                index.iloc[out_rows], probs, points, variant["name"], rois.shape[-1]
            )
            tables.append(adapted.assign(adapted=True))
            if features and len(out_rows):
                described.append(
                    features_table(
                        grader_features(adapted_model, rois[out_rows], device),
                        index.iloc[out_rows].reset_index(drop=True),
                    ).assign(variant=variant["name"], split=ADAPTED_OUT)
                )
    return tables, described, weights


def fold_features(
    model, rois: np.ndarray, index: pd.DataFrame, out_split: str, device, variant: str
) -> pd.DataFrame:
    """A fold model's ``features_table`` (encoder features and logits) of the fold's training,
    validation and ``out_split`` rows, with ``variant``: what a head reading a grader's features
    is fitted and judged on out of fold."""
    rows = np.flatnonzero(index["split"].isin([*FOLD_SPLITS, out_split]).to_numpy())
    values = grader_features(model, rois[rows], device)
    return features_table(values, index.iloc[rows].reset_index(drop=True)).assign(variant=variant)


def site_plan(index: pd.DataFrame, sites: pd.Series, max_sites: int | None) -> list[str]:
    """The sites left out in turn, in order (``fold_sites`` of ``index``'s rows): fold ``k``
    leaves out the ``k``-th, whether it runs alone (``pipelines/site_folds``, one cell per fold)
    or with the others (``leave_site_out``)."""
    splits = index["split"].astype(str).to_numpy()
    return fold_sites(pd.Series(site_values(sites)), pd.Series(splits), max_sites)


def site_values(sites: pd.Series) -> np.ndarray:
    """Each row's site as text, ``UNKNOWN_SITE`` where the study names none."""
    return sites.astype("string").fillna(UNKNOWN_SITE).to_numpy()


def site_fold_index(
    index: pd.DataFrame, sites: pd.Series, site: str
) -> tuple[np.ndarray, pd.DataFrame] | None:
    """The fold that leaves ``site`` out: its rows' positions and its index (``fold_rows``'s
    splits); None, with a warning, where the other sites have too little to train a fold on
    (2 training ROIs and 1 validation ROI)."""
    splits = index["split"].astype(str).to_numpy()
    rows, fold_split = fold_rows(site_values(sites), splits, site)
    if (fold_split == "train").sum() < 2 or not (fold_split == "validation").any():
        logger.warning(
            "leave-site-out: '%s' not left out: the other sites have %d training and %d "
            "validation ROIs (a fold needs 2 and 1)",
            site,
            int((fold_split == "train").sum()),
            int((fold_split == "validation").sum()),
        )
        return None
    return rows, index.iloc[rows].assign(split=fold_split).reset_index(drop=True)


def one_site(
    rois: np.ndarray,
    index: pd.DataFrame,
    sites: pd.Series,
    site: str,
    pretraining: dict,
    finetuning: dict,
    variants: list[dict],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The fold that leaves ``site`` out (``grade_fold``): per variant, its ``predictions`` rows
    on the fold's validation rows and the left-out site's (as trained and adapted), and its
    features of the fold's training, validation and left-out rows (``fold_features``, for the
    heads that read a grader's features), both with ``fold_site``. Empty where the fold cannot
    be trained (``site_fold_index``)."""
    fold = site_fold_index(index, sites, site)
    if fold is None:
        return pd.DataFrame(), pd.DataFrame()
    rows, fold_index = fold
    logger.info(
        "leave-site-out: '%s' left out (%d of its ROIs graded; %d training ROIs)",
        site,
        int((fold_index["split"] == SITE_OUT).sum()),
        int((fold_index["split"] == "train").sum()),
    )
    tables, described, _ = grade_fold(
        rois[rows], fold_index, pretraining, finetuning, variants, features=True
    )
    return (
        pd.concat([t.assign(fold_site=site) for t in tables], ignore_index=True),
        pd.concat([t.assign(fold_site=site) for t in described], ignore_index=True),
    )


def leave_site_out(
    rois: np.ndarray,
    index: pd.DataFrame,
    sites: pd.Series,
    pretraining: dict,
    finetuning: dict,
    variants: list[dict],
    max_sites: int | None,
) -> pd.DataFrame:
    """Per fold (a training site left out, ``site_plan``) and variant, the ``predictions`` rows
    of the fold's model on its validation rows (the other sites' validation studies, to calibrate
    it) and on the left-out site's rows (split ``SITE_OUT``), these once as trained and once
    adapted (``adapted``); with ``fold_site``. Empty when nothing is left out. The folds one
    after the other, as their cells give them run apart (``one_site``).

    Args:
        index: ``roi_index`` (row ``i`` describes ``rois[i]``).
        sites: each row's site (``index``'s study's).
        pretraining, finetuning, variants: the condition's settings, as the graders it ships
            were trained with (checkpoints are not written for folds).
    """
    tables = [
        one_site(rois, index, sites, site, pretraining, finetuning, variants)[0]
        for site in site_plan(index, sites, max_sites)
    ]
    tables = [t for t in tables if len(t)]
    if not tables:
        return pd.DataFrame()
    return pd.concat(tables, ignore_index=True)
