"""Grad-CAM saliency of the severity head over ROIs (MONAI's GradCAM)."""

from __future__ import annotations

import numpy as np
import torch

from disc_grade.models.components.networks import DiscGrader


class _SeverityOnly(torch.nn.Module):
    def __init__(self, grader: DiscGrader) -> None:
        super().__init__()
        self.grader = grader

    def forward(self, x):
        return self.grader(x)[0]


def gradcam(model: DiscGrader, rois: np.ndarray, class_index: int = 2) -> np.ndarray:
    """[n, H, W] Grad-CAM maps in [0, 1] for ``class_index`` (Severe by default)."""
    from monai.visualize import GradCAM

    if len(rois) == 0:
        return np.zeros((0,) + rois.shape[2:], dtype=np.float32)
    cam = GradCAM(nn_module=_SeverityOnly(model), target_layers="grader.encoder.layer4")
    x = torch.from_numpy(np.asarray(rois, dtype=np.float32))
    maps = cam(x, class_idx=class_index)[:, 0]  # [n, H, W]
    return maps.detach().numpy().astype(np.float32)
