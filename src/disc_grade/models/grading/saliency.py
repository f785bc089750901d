"""Grad-CAM saliency of the severity head over ROIs (MONAI's GradCAM)."""

from __future__ import annotations

import numpy as np
import torch

from disc_grade.models.components.networks import DiscGrader, SliceSequenceEncoder


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
    sequence = isinstance(model.encoder, SliceSequenceEncoder)
    layer = "grader.encoder.backbone.layer4" if sequence else "grader.encoder.layer4"
    cam = GradCAM(nn_module=_SeverityOnly(model), target_layers=layer)
    x = torch.from_numpy(np.asarray(rois, dtype=np.float32))
    maps = cam(x, class_idx=class_index)[:, 0]  # [n, H, W]; a sequence: [n * windows, H, W]
    if sequence:  # one map per window: their mean, rescaled to [0, 1]
        maps = maps.reshape(len(x), -1, *maps.shape[1:]).mean(dim=1)
        low = maps.flatten(1).min(dim=1).values.view(-1, 1, 1)
        high = maps.flatten(1).max(dim=1).values.view(-1, 1, 1)
        maps = (maps - low) / (high - low).clamp_min(1e-8)
    return maps.detach().numpy().astype(np.float32)
