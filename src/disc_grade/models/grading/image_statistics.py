"""Image statistics of a crop that say which scanner wrote it, not what grade it shows.

Scanners differ in noise, sharpness, contrast and slice spacing far more than in anatomy, and MRI
quality control measures exactly these (noise against signal, edge sharpness, the histogram's
shape). Each statistic here is relative to the crop's own intensity range, so a scanner's stored
scale alone changes none of them. The novelty warning (``models.grading.novelty``) reads them
beside the grader's features: a grader's features are trained to ignore what a scanner does, and
so are a poor place to see it.
"""

from __future__ import annotations

import numpy as np

# each a column of the features table (``context_grading.features_table``)
STATISTICS = ("img_noise", "img_sharpness", "img_median", "img_mean", "img_slice_correlation")
_MAD_TO_SIGMA = 1.4826


def image_statistics(rois: np.ndarray) -> np.ndarray:
    """[n, 5] per crop (``rois`` [n, C, H, W], the middle channel its slice): noise (the robust
    sigma of neighbouring-pixel differences), sharpness (the mean gradient magnitude), the
    median and the mean (where they lie between the 2nd and 98th centiles), each relative to
    that 2-98 range; and the correlation of the outer channels (the neighbouring slices), which
    falls as slices lie further apart. NaN for a crop of one value; [0, 5] for no crop."""
    x = np.asarray(rois, dtype=np.float32)
    n, channels = x.shape[:2]
    if n == 0:  # a study none of whose targets could be cropped
        return np.empty((0, len(STATISTICS)))
    mid = x[:, channels // 2].reshape(n, -1)
    low, median, high = np.percentile(mid, [2, 50, 98], axis=1)
    span = np.where(high > low, high - low, np.nan)
    image = x[:, channels // 2]
    dx = np.diff(image, axis=2).reshape(n, -1)
    dy = np.diff(image, axis=1).reshape(n, -1)
    mad = np.median(np.abs(dx - np.median(dx, axis=1, keepdims=True)), axis=1)
    noise = _MAD_TO_SIGMA * mad / np.sqrt(2) / span
    sharpness = 0.5 * (np.abs(dx).mean(axis=1) + np.abs(dy).mean(axis=1)) / span
    mean = (mid.mean(axis=1) - low) / span
    return np.stack(
        [noise, sharpness, (median - low) / span, mean, _slice_correlation(x)], axis=1
    ).astype(np.float64)


def _slice_correlation(x: np.ndarray) -> np.ndarray:
    """[n] the Pearson correlation of each crop's first and last channels (1 with one channel)."""
    if x.shape[1] < 2:
        return np.ones(len(x))
    a = x[:, 0].reshape(len(x), -1)
    b = x[:, -1].reshape(len(x), -1)
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    denominator = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, (a * b).sum(axis=1) / denominator, np.nan)
