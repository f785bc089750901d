"""study_report pipeline: the label-efficiency table, figure and page from every grid cell."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
