"""split pipeline: one split per study, the canal landmarks and the training priors."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
