"""report pipeline: the RSNA score over all conditions and the report."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
