"""Nodes of the inference pipeline: a folder of studies in, every target graded or flagged out.

One code path for every condition, reading only the model bundle (``disc_grade.shipping``):
choose its series, find its targets with its localiser (the foramina and recesses from the canal
points the canal's localiser found), crop them with the training cropper, grade them with the
grader validation chose (its study-fold models averaged where they ship), calibrated as in
evaluation. Targets that cannot be graded get the best
constant (``label_priors``, the training frequencies weighed by 1/2/4) and a flag.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from disc_grade.alignment.landmarks import landmarks_of
from disc_grade.conditions import CONDITION_NAMES, SPECS, spec_of
from disc_grade.datasets import DicomTree
from disc_grade.inference.grade_points import grade_points
from disc_grade.inference.grading import graded_rows, target_table
from disc_grade.inference.joint import mark_unlike_training, regrade, stack_grades
from disc_grade.inference.studies import choose_series, submission_rows
from disc_grade.localiser.find import find_targets
from disc_grade.localiser.model import load_localiser
from disc_grade.pipelines.condition.skip import empty_frame
from disc_grade.rsna import PROB_COLUMNS
from disc_grade.selection.shipped import adapts, grader_of, network_of

logger = logging.getLogger(__name__)


def _descriptions(params: dict[str, Any]) -> pd.DataFrame | None:
    """The optional series-description CSV (``inference.series_descriptions``)."""
    csv = params["series_descriptions"]
    if not csv:
        return None
    if not Path(csv).is_file():
        raise ValueError(
            f"inference.series_descriptions: '{csv}' does not exist (leave it null to use the headers)"
        )
    return pd.read_csv(csv, dtype={"study_id": "int64", "series_id": "int64"})


def choose_inference_series(series: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """Per condition and study the series it is read on (from the optional CSV, else the headers)."""
    descriptions = _descriptions(params)
    table = pd.concat(
        [
            choose_series(spec, series, descriptions).assign(condition=name)
            for name, spec in SPECS.items()
        ],
        ignore_index=True,
    )
    for name, rows in table.groupby("condition"):
        logger.info(
            "inference[%s]: %d studies with a %s series",
            name,
            rows["study_id"].nunique(),
            SPECS[name].series,
        )
    return table


def _shipped(bundle: dict, name: str, part: str) -> dict:
    """The bundle's ``part`` ("localiser" or "grader") of condition ``name`` ({} if not trained)."""
    return ((bundle["models"]["conditions"].get(name) or {}).get(part)) or {}


def find_condition_targets(
    choice: pd.DataFrame,
    series: pd.DataFrame,
    dicom_index: pd.DataFrame,
    images: DicomTree,
    bundle: dict,
    name: str,
    landmarks: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every target of every study found by the condition's shipped localiser, and the others
    with why (none at all where the bundle has no localiser for it: its targets get flagged)."""
    spec = spec_of(name)
    shipped = _shipped(bundle, name, "localiser")
    if not shipped:
        logger.info("inference[%s]: the bundle has no model for it; its targets are flagged", name)
        return empty_frame(), empty_frame()
    studies = sorted(set(dicom_index["study_id"].dropna().astype("int64")))
    return find_targets(
        spec,
        load_localiser(shipped["weights"], shipped["channels"], shipped["n_maps"]),
        images.root,
        choice[choice["condition"] == name],
        series,
        dicom_index,
        landmarks if landmarks is not None else pd.DataFrame(columns=["study_id", "level"]),
        studies,
        shipped["find"],
    )


def locate_inference_landmarks(
    canal_targets: pd.DataFrame, dicom_index: pd.DataFrame
) -> pd.DataFrame:
    """The canal points the canal's localiser found, in patient coordinates."""
    return landmarks_of(canal_targets, dicom_index)


def grade_condition(
    targets: pd.DataFrame,
    missing: pd.DataFrame,
    series: pd.DataFrame,
    images: DicomTree,
    bundle: dict,
    name: str,
    inference: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The condition's found targets graded by ``grade_points`` (cropped centred, as the test
    crops are) with the bundle's grader: the variant validation chose, or its study-fold models
    averaged where they ship, its BatchNorm
    statistics adapted to the folder's crops where ``adapts``; the others flagged with why. Also
    the grader's features of the graded targets, for the joint head (``apply_joint_head``)."""
    shipped = _shipped(bundle, name, "grader")
    if not shipped:
        return empty_frame(), empty_frame()
    grader = grader_of(shipped, adapt=adapts(inference, shipped["chosen_grader"]))
    graded, excluded, features = grade_points(
        targets,
        series,
        images.root,
        grader,
        bundle["label_priors"],
        shipped["roi"],
        network_of(shipped),
        with_features=True,
    )
    flagged = pd.concat(
        [missing, excluded.reindex(columns=["study_id", "condition", "level", "reason"])],
        ignore_index=True,
    )
    return graded_rows(graded, flagged, grader.name), features


def apply_joint_head(bundle: dict, *parts: pd.DataFrame) -> tuple[pd.DataFrame, ...]:
    """Every condition's grades (``parts``: the conditions' grades, then their features, in
    ``CONDITION_NAMES`` order), those the joint head grades regraded with each study's every
    found target (``inference.joint.regrade``), the families the study stacker keeps refined by
    it (``inference.joint.stack_grades``), each row with its study's novelty and whether
    the study is unlike the training data (``inference.joint.mark_unlike_training``)."""
    n = len(CONDITION_NAMES)
    grades = dict(zip(CONDITION_NAMES, parts[:n], strict=True))
    features = dict(zip(CONDITION_NAMES, parts[n:], strict=True))
    joint_model, label_priors = bundle["models"]["joint"], bundle["label_priors"]
    out = regrade(joint_model, grades, features, label_priors)
    out = stack_grades(joint_model, out)
    out = mark_unlike_training(joint_model, out, features)
    return tuple(out[name] for name in CONDITION_NAMES)


def assemble_submission(
    dicom_index: pd.DataFrame, bundle: dict, *grades: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All 25 targets of every study folder in ``sample_submission.csv`` order, and the
    submission rows; targets without a grade carry a flag and the training frequencies weighed
    by the metric's 1/2/4 (the best constant, as a calibrated grader's probabilities are)."""
    studies = sorted(set(dicom_index["study_id"].dropna().astype("int64")))
    label_priors = bundle["label_priors"]
    prior = label_priors.loc[label_priors["weighted"], ["condition", *PROB_COLUMNS]]
    names = {c: name for name in CONDITION_NAMES for c in SPECS[name].conditions}
    table = target_table(studies, list(grades), prior, names)
    return table, submission_rows(table)


def plot_studies(table: pd.DataFrame, series: pd.DataFrame, images: DicomTree) -> dict:
    """One figure per study (drawn lazily when saved): every series read, with points and grades."""
    from disc_grade.inference.figures import study_figure

    figures = {}
    for study_id, rows in table.groupby("study_id"):
        figures[str(study_id)] = lambda r=rows: study_figure(images.root, r, series)
    return figures
