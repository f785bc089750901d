"""condition pipeline: one modular pipeline, a namespace per condition."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
