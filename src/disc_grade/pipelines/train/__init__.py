"""train pipeline: every stage after the raw data."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
