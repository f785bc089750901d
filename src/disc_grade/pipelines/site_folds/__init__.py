"""site_folds pipeline: one leave-site-out fold of a condition, graded apart from the others."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
