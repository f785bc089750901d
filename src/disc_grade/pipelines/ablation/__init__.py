"""ablation pipeline: every pretraining/fine-tuning recipe measured alike (``make ablation``)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
