"""rois pipeline: each condition's targets aligned and its discs cropped."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
