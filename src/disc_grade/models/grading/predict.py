"""A trained grader applied to ROIs: loading it, its probabilities and points, the predictions table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from disc_grade.dicom.roi import roi_centre
from disc_grade.models.components.augment import normalised_to_pixels
from disc_grade.models.components.networks import DiscGrader, encoder_from_params
from disc_grade.models.training.batches import roi_batch
from disc_grade.rsna import PROB_COLUMNS, RAW_PROB_COLUMNS

EVAL_BATCH = 256


def load_grader(
    weights: dict, encoder_params: dict | None, device: torch.device | None = None
) -> DiscGrader:
    """A grader with ``weights`` loaded, in eval mode, on ``device`` (CPU by default).

    The input channel count is read from the weights, so any ROI profile loads.
    """
    in_channels = int(weights["encoder.conv1.weight"].shape[1])
    model = DiscGrader(encoder_from_params(encoder_params, in_channels=in_channels))
    model.load_state_dict(weights)
    return model.to(device or torch.device("cpu")).eval()


def predict(
    model: DiscGrader, rois: np.ndarray, rows: np.ndarray, device: torch.device
) -> tuple[np.ndarray, np.ndarray]:
    """Softmax probabilities [n, 3] and points (ROI px, x/y) [n, 2] for ``rois[rows]``."""
    model.eval()
    size = rois.shape[-1]
    probs, points = [], []
    with torch.no_grad():
        for start in range(0, len(rows), EVAL_BATCH):
            logits, point = model(roi_batch(rois, rows[start : start + EVAL_BATCH], device))
            probs.append(torch.softmax(logits.float(), dim=1).cpu().numpy())
            points.append(normalised_to_pixels(point.float(), size).cpu().numpy())
    if not probs:
        return np.zeros((0, 3)), np.zeros((0, 2))
    return np.concatenate(probs), np.concatenate(points)


def prediction_table(
    rows: pd.DataFrame, probs: np.ndarray, points: np.ndarray, variant: str, size_px: int
) -> pd.DataFrame:
    """The ``predictions`` contract for one variant; ``size_px`` is the ROIs' side."""
    table = pd.DataFrame(
        {
            "study_id": rows["study_id"].to_numpy(dtype=np.int64),
            "condition": rows["condition"].astype(str).to_numpy(),
            "level": rows["level"].astype(str).to_numpy(),
            "variant": variant,
            "split": rows["split"].astype(str).to_numpy(),
            "label": rows["label"].to_numpy(dtype=np.int64),
        }
    )
    for k, column in enumerate(PROB_COLUMNS):
        table[column] = probs[:, k]
    return table.assign(
        predicted=probs.argmax(1).astype(np.int64),
        point_x_pred=points[:, 0],
        point_y_pred=points[:, 1],
        point_x_true=rows["point_x"].to_numpy(dtype=float),
        point_y_true=rows["point_y"].to_numpy(dtype=float),
        mm_per_px=rows["roi_mm_per_px"].to_numpy(dtype=float),
        roi_centre_px=roi_centre(size_px),
    )


def as_predictions(graded: pd.DataFrame, variant: str, size_px: int) -> pd.DataFrame:
    """The ``predictions`` contract of crops graded and calibrated (``inference.grade_points``):
    the grader's own output as ``raw_*``, the calibrated probabilities and the grade called."""
    raw = graded[RAW_PROB_COLUMNS].to_numpy(dtype=float)
    points = graded[["point_x_pred", "point_y_pred"]].to_numpy(dtype=float)
    table = prediction_table(graded, raw, points, variant, size_px)
    table = table.rename(columns=dict(zip(PROB_COLUMNS, RAW_PROB_COLUMNS, strict=True)))
    table = table.rename(columns={"predicted": "raw_predicted"})
    table["raw_predicted"] = graded["raw_predicted"].to_numpy(dtype=np.int64)
    for column in PROB_COLUMNS:
        table[column] = graded[column].to_numpy(dtype=float)
    return table.assign(predicted=graded["predicted"].to_numpy(dtype=np.int64))


def empty_predictions() -> pd.DataFrame:
    """The ``predictions`` contract without rows."""
    rows = pd.DataFrame(
        {
            "study_id": pd.Series(dtype="int64"),
            "condition": pd.Series(dtype=str),
            "level": pd.Series(dtype=str),
            "split": pd.Series(dtype=str),
            "label": pd.Series(dtype="int64"),
            "point_x": pd.Series(dtype=float),
            "point_y": pd.Series(dtype=float),
            "roi_mm_per_px": pd.Series(dtype=float),
        }
    )
    return prediction_table(rows, np.zeros((0, len(PROB_COLUMNS))), np.zeros((0, 2)), "", 1)


def combine_predictions(*tables: pd.DataFrame) -> pd.DataFrame:
    """One ``predictions`` table with a ``variant`` column.

    Raises:
        ValueError: a (variant, study, condition, level) appears twice.
    """
    combined = pd.concat(tables, ignore_index=True)
    keys = ["variant", "study_id", "condition", "level"]
    if combined.duplicated(keys).any():
        raise ValueError(f"predictions: a ({', '.join(keys)}) appears twice")
    return combined
