"""study pipeline: one cell of the label-efficiency grid (a label fraction and a seed)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
