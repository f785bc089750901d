"""joint pipeline: a study's targets of every condition graded together."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
