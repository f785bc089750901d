"""bundle pipeline: what ships, as one self-describing model bundle (``disc_grade.shipping``)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
