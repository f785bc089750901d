"""families pipeline: the foraminal and subarticular condition families, one namespace each."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
