"""condition pipeline: one modular pipeline, a namespace per condition.

The pipeline module is imported when the pipeline is built, not with the package: the folds
pipeline reads two modules of this package (``fold_cells``, ``skip``), and neither it nor its
DVC stage's code deps (``disc_grade.import_graph``) depend on the rest of the condition pipeline.
"""

import importlib


def create_pipeline(**kwargs):
    return importlib.import_module(f"{__name__}.pipeline").create_pipeline(**kwargs)


__all__ = ["create_pipeline"]
