"""disc-grade: disc-centric contrastive grading of lumbar spinal canal stenosis."""

__version__ = "0.1.0"
