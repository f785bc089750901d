"""Phantom pipeline: a synthetic cohort in the RSNA 2024 layout."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
