"""Nodes of the inference pipeline: a folder of studies in, every target graded or flagged out.

One code path for every condition: choose its series, find its targets with its localiser (the
foramina and recesses from the canal points the canal's localiser found), crop them with the
training cropper, grade them with the grader validation chose (its study-context head where
validation kept one), calibrated as in evaluation. Targets that cannot be graded get the best
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
from disc_grade.inference.grade_points import Grader, grade_points
from disc_grade.inference.grading import graded_rows, target_table
from disc_grade.inference.joint import mark_unlike_training, regrade, stack_grades
from disc_grade.inference.studies import choose_series, submission_rows
from disc_grade.localiser.find import find_targets
from disc_grade.localiser.model import load_localiser
from disc_grade.pipelines.condition.grade import by_variant
from disc_grade.pipelines.condition.localise import find_settings
from disc_grade.rsna import PROB_COLUMNS

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


def find_condition_targets(
    choice: pd.DataFrame,
    series: pd.DataFrame,
    dicom_index: pd.DataFrame,
    images: DicomTree,
    localiser_model: dict,
    offsets: dict,
    name: str,
    localiser: dict[str, Any],
    alignment: dict[str, Any],
    landmarks: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every target of every study found by the condition's localiser, and the others with why."""
    spec = spec_of(name)
    studies = sorted(set(dicom_index["study_id"].dropna().astype("int64")))
    return find_targets(
        spec,
        load_localiser(localiser_model, localiser["channels"], spec.n_maps),
        images.root,
        choice[choice["condition"] == name],
        series,
        dicom_index,
        landmarks if landmarks is not None else pd.DataFrame(columns=["study_id", "level"]),
        studies,
        find_settings(localiser, alignment, offsets),
    )


def locate_inference_landmarks(
    canal_targets: pd.DataFrame, dicom_index: pd.DataFrame
) -> pd.DataFrame:
    """The canal points the canal's localiser found, in patient coordinates."""
    return landmarks_of(canal_targets, dicom_index)


def adapts(inference: dict[str, Any], chosen_grader: dict) -> bool:
    """Whether the grader's BatchNorm statistics adapt to the folder's crops:
    ``inference.adapt_batchnorm`` where it is true or false, else (null) what the leave-site-out
    folds decided for the chosen grader (``chosen_grader.adapt_batchnorm``; false without folds).

    Raises:
        ValueError: ``adapt_batchnorm`` is neither null nor a boolean.
    """
    setting = inference.get("adapt_batchnorm")
    if setting is None:
        return bool(chosen_grader.get("adapt_batchnorm", False))
    if not isinstance(setting, bool):
        raise ValueError(f"inference.adapt_batchnorm must be null, true or false, got {setting!r}")
    return setting


def grade_condition(
    targets: pd.DataFrame,
    missing: pd.DataFrame,
    series: pd.DataFrame,
    images: DicomTree,
    contrastive_model: dict,
    scratch_model: dict,
    frozen_model: dict,
    calibration: dict,
    chosen_grader: dict,
    context_model: dict,
    fold_graders: dict,
    label_priors: pd.DataFrame,
    roi: dict[str, Any],
    finetuning: dict[str, Any],
    inference: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The condition's found targets graded by ``grade_points`` (cropped centred, as the test
    crops are) with the grader validation chose (``chosen_grader``) and its study-context head
    where validation kept one (``context_model``), or its study-fold models averaged where they
    ship (``fold_graders``), its BatchNorm statistics adapted to the
    folder's crops where ``adapts``; the others flagged with why. Also the
    grader's features of the graded targets, for the joint head (``apply_joint_head``)."""
    grader = Grader.chosen(
        by_variant(contrastive_model, scratch_model, frozen_model),
        calibration,
        chosen_grader,
        context_model,
        adapt=adapts(inference, chosen_grader),
        fold_graders=fold_graders,
    )
    graded, excluded, features = grade_points(
        targets, series, images.root, grader, label_priors, roi, finetuning, with_features=True
    )
    flagged = pd.concat(
        [missing, excluded.reindex(columns=["study_id", "condition", "level", "reason"])],
        ignore_index=True,
    )
    return graded_rows(graded, flagged, grader.name), features


def apply_joint_head(
    joint_model: dict, label_priors: pd.DataFrame, *parts: pd.DataFrame
) -> tuple[pd.DataFrame, ...]:
    """Every condition's grades (``parts``: the conditions' grades, then their features, in
    ``CONDITION_NAMES`` order), those the joint head grades regraded with each study's every
    found target (``inference.joint.regrade``), the families the study stacker keeps refined by
    it (``inference.joint.stack_grades``), each row with its study's novelty and whether
    the study is unlike the training data (``inference.joint.mark_unlike_training``)."""
    n = len(CONDITION_NAMES)
    grades = dict(zip(CONDITION_NAMES, parts[:n], strict=True))
    features = dict(zip(CONDITION_NAMES, parts[n:], strict=True))
    out = regrade(joint_model, grades, features, label_priors)
    out = stack_grades(joint_model, out)
    out = mark_unlike_training(joint_model, out, features)
    return tuple(out[name] for name in CONDITION_NAMES)


def assemble_submission(
    dicom_index: pd.DataFrame, label_priors: pd.DataFrame, *grades: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All 25 targets of every study folder in ``sample_submission.csv`` order, and the
    submission rows; targets without a grade carry a flag and the training frequencies weighed
    by the metric's 1/2/4 (the best constant, as a calibrated grader's probabilities are)."""
    studies = sorted(set(dicom_index["study_id"].dropna().astype("int64")))
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
