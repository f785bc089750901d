"""The one way a condition's points are graded: crop, grader (or its study-fold models together),
calibration, the rule that calls the grade.

Inference grades the points its localisers find with it, and the condition pipeline's end-to-end
rows grade the held-out studies' found points with it, so the report's end-to-end figure measures
exactly what inference ships.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from disc_grade.dicom.extract import RoiSpec, extract_rois
from disc_grade.models.grading.adapt import adapt_batchnorm
from disc_grade.models.grading.context_grading import features_table, grader_features
from disc_grade.models.grading.decision import calibrated_table, row_priors
from disc_grade.models.grading.fold_average import averaged_table
from disc_grade.models.grading.predict import load_grader, predict
from disc_grade.models.training.device import select_device
from disc_grade.rsna import PROB_COLUMNS


@dataclass(frozen=True)
class Grader:
    """What grades a condition's crops: the fine-tuned variant's weights and calibration;
    ``adapt``: its BatchNorm statistics re-estimated on the crops it grades, all of one call
    (``models.grading.adapt``: a new scanner's studies, without labels); ``folds``: the
    variant's study-fold models, each ``{"weights", "calibration"}``, which grade together
    (``models.grading.fold_average``) where there are some, the whole-split grader still giving
    the features (the joint head and the novelty warning read them)."""

    variant: str
    weights: dict
    calibration: dict
    adapt: bool = False
    folds: tuple = ()

    @property
    def name(self) -> str:
        """The variant, ``+<n>folds`` where its fold models grade, ``+adabn`` where the grader
        adapts to the crops it grades."""
        return (
            self.variant
            + (f"+{len(self.folds)}folds" if self.folds else "")
            + ("+adabn" if self.adapt else "")
        )


def crop_points(
    points: pd.DataFrame,
    series: pd.DataFrame,
    images_root: Path | str,
    roi: dict[str, Any],
    offsets_mm: np.ndarray | None = None,
) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame]:
    """The training cropper on ``points`` (centred, as the test crops are, unless ``offsets_mm``):
    ROIs, their index, and the points that could not be cropped."""
    return extract_rois(Path(images_root), points, series, RoiSpec.from_params(roi), 1, offsets_mm)


def grade_points(
    points: pd.DataFrame,
    series: pd.DataFrame,
    images_root: Path | str,
    grader: Grader,
    label_priors: pd.DataFrame,
    roi: dict[str, Any],
    finetuning: dict[str, Any],
    offsets_mm: np.ndarray | None = None,
    with_features: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame] | tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Every point of ``points`` cropped by the training cropper and graded.

    Args:
        points: one row per target (``study_id``, ``condition``, ``level``, ``series_id``,
            ``slice_rank``, ``x``, ``y`` and whatever else travels along).
        offsets_mm: [n, 2] how far each crop's centre lies from its point (None: centred).
        with_features: also return the grader's features and logits of each graded row and its
            crop's image statistics (``context_grading.features_table``: what the joint head
            and the novelty warning read).

    Returns:
        The cropped rows (the crop index, ``extract_rois``) with the grader's own probabilities
        and grade (``raw_*``), the probabilities to submit and the grade called
        (``PROB_COLUMNS``, ``predicted``; ``decision.calibrated_table``) and the localisation
        head's point in the ROI (``point_x_pred``, ``point_y_pred``); and the points that could
        not be cropped, with why (and the features, ``with_features``).
    """
    rois, index, excluded = crop_points(points, series, images_root, roi, offsets_mm)
    graded, features = grade_crops(rois, index, grader, label_priors, finetuning, with_features)
    return (graded, excluded, features) if with_features else (graded, excluded)


def grade_crops(
    rois: np.ndarray,
    index: pd.DataFrame,
    grader: Grader,
    label_priors: pd.DataFrame,
    finetuning: dict[str, Any],
    with_features: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Crops already cut (``crop_points``: ``rois[i]`` is ``index``'s row ``i``) graded as
    ``grade_points`` grades them; where ``with_features`` (else None) the grader's features and
    the crops' image statistics (``context_grading.features_table``). A grader
    that adapts (``Grader.adapt``) adapts to these crops, each of its fold models too where they
    grade together (``Grader.folds``)."""
    device = select_device(finetuning["device"])
    by_folds = bool(grader.folds)
    needed = with_features or not by_folds
    model = _loaded(grader.weights, rois, grader.adapt, finetuning, device) if needed else None
    features = grader_features(model, rois, device) if with_features else None
    if by_folds:
        tables = [
            _graded(
                _loaded(fold["weights"], rois, grader.adapt, finetuning, device),
                rois,
                index,
                fold["calibration"],
                label_priors,
            )
            for fold in grader.folds
        ]
        rule = grader.folds[0]["calibration"]["decision"]
        table = averaged_table(tables, rule, row_priors(index["condition"], label_priors))
    else:
        table = _graded(model, rois, index, grader.calibration, label_priors)
    return table, (features_table(features, index, rois) if with_features else None)


def _loaded(weights: dict, rois: np.ndarray, adapt: bool, finetuning: dict, device):
    """A grader's model, its BatchNorm statistics adapted to ``rois`` where ``adapt``."""
    model = load_grader(weights, finetuning["encoder"], device)
    return adapt_batchnorm(model, rois, device) if adapt else model


def _graded(model, rois, index, calibration: dict, label_priors) -> pd.DataFrame:
    """``index``'s rows graded by ``model`` and calibrated by ``calibration``."""
    probs, where = predict(model, rois, np.arange(len(rois)), next(model.parameters()).device)
    return _calibrated(index, probs, where, calibration, label_priors)


def _calibrated(index, probs, where, calibration: dict, label_priors) -> pd.DataFrame:
    table = index.assign(
        **dict(zip(PROB_COLUMNS, probs.T, strict=True)),
        predicted=probs.argmax(axis=1).astype(np.int64),
        point_x_pred=where[:, 0],
        point_y_pred=where[:, 1],
    )
    return calibrated_table(table, calibration, label_priors)
