"""One grading path: the report's end-to-end rows and inference grade the same points alike.

The same points go through the condition pipeline's end-to-end node (as the localiser's found
points of held-out studies) and through inference's grading node (as the targets its localiser
found); with fold models too, the 'chosen' rows and inference's grades agree.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from disc_grade.datasets import DicomTree, TorchStateDataset
from disc_grade.models.components.networks import DiscGrader, build_encoder
from disc_grade.models.grading.calibration import fit_method
from disc_grade.models.training.recipe import Recipe
from disc_grade.pipelines.condition.measure import grade_end_to_end
from disc_grade.pipelines.inference.nodes import grade_condition
from disc_grade.pipelines.split.nodes import training_priors
from disc_grade.rsna import PROB_COLUMNS
from disc_grade.selection.shipped import ship_grader
from tests.conftest import align

ROI = {"size_px": 24, "extent_mm": 60.0, "n_channels": 3, "offset_mm": 5.0, "offset_seed": 0}
FINETUNING = {"device": "cpu", "encoder": {"depth": 10, "stem_stride": 2}}
SPACING = ["pixel_spacing_col", "pixel_spacing_row"]


def as_trained() -> dict:
    """The calibration that submits a grader's output unchanged."""
    return fit_method(np.zeros((0, 3)), np.zeros(0, dtype=int), "as_trained")


def _graders() -> dict[str, dict]:
    out = {}
    for k, variant in enumerate(("contrastive", "scratch", "frozen")):
        torch.manual_seed(k)
        out[variant] = DiscGrader(build_encoder(10, 3, 2)).state_dict()
    return out


def _as_found(targets: pd.DataFrame, series: pd.DataFrame) -> pd.DataFrame:
    """The labelled points as the localiser evaluation lists them when it finds them exactly."""
    keys = ["study_id", "series_id"]
    missing = [c for c in ("rows", "columns", *SPACING) if c not in targets.columns]
    rows = targets.merge(series[[*keys, *missing]], on=keys, how="left")
    return rows.assign(
        found=True,
        series_id_pred=rows["series_id"],
        x_pred=rows["x"],
        y_pred=rows["y"],
    )


def _held_out(small_cohort, tables):
    """The cohort's tables and images, its in-site test foramina as the localiser would find
    them, the training priors, untrained graders and their as-trained calibration."""
    images = DicomTree(small_cohort[0] / "train_images")
    targets, _ = align(tables, "foraminal")
    held = targets[targets["split"] == "test"].reset_index(drop=True).assign(peak=1.0)
    priors = training_priors(tables.train, tables.splits)
    graders = _graders()
    calibration = {v: {**as_trained(), "decision": "grader"} for v in graders}
    return tables, images, held, priors, graders, calibration


def _shipped(chosen, graders, calibration, folds) -> dict:
    """The foramina's grader as the condition pipeline ships it."""
    recipe = Recipe({}, FINETUNING, {})
    return ship_grader(chosen, graders, calibration, folds, ROI, recipe)[0]


def _bundle(shipped: dict, priors) -> dict:
    """A model bundle carrying the foramina's shipped grader as the bundle pipeline does."""
    conditions = {"foraminal": {"localiser": {}, "grader": shipped}}
    return {"models": {"conditions": conditions, "joint": {}}, "label_priors": priors}


def _fold_graders(graders: dict, calibration: dict) -> dict:
    """Two fold models of 'scratch' (the other variants' weights, so that the report's rows of
    those variants are each fold model's own)."""
    folds = {
        str(k): {"weights": graders[v], "calibration": calibration[v]}
        for k, v in enumerate(("contrastive", "frozen"))
    }
    return {"variant": "scratch", "folds": folds}


@pytest.mark.parametrize("grading", ["alone", "folds"])
def test_the_end_to_end_rows_and_inference_grade_the_same_points_alike(
    small_cohort, small_cohort_tables, grading, tmp_path, monkeypatch
):
    """Inference grades with the shipped grader as saved (``TorchStateDataset``, loaded where
    no ``conf/`` is): it describes its own network, ROI and calibration."""
    tables, images, held, priors, graders, calibration = _held_out(
        small_cohort, small_cohort_tables
    )
    folds = _fold_graders(graders, calibration) if grading == "folds" else {}
    shipped_grader = _shipped({"variant": "scratch"}, graders, calibration, folds)
    reported, _ = grade_end_to_end(
        _as_found(held, tables.series),
        tables.series,
        images,
        graders,
        calibration,
        shipped_grader,
        priors,
    )
    shipped = reported[reported["variant"] == "chosen"]
    artefact = TorchStateDataset(str(tmp_path / "shipped_grader.pt"))
    artefact.save(shipped_grader)
    monkeypatch.chdir(tmp_path)
    assert not (tmp_path / "conf").exists()
    inferred, features = grade_condition(
        held,
        pd.DataFrame(columns=["study_id", "condition", "level", "reason"]),
        tables.series,
        images,
        _bundle(artefact.load(), priors),
        "foraminal",
        {},
    )
    keys = ["study_id", "condition", "level"]
    both = shipped.merge(inferred, on=keys, suffixes=("_report", "_inference"), validate="1:1")
    assert len(both) == len(held) > 5
    for column in PROB_COLUMNS:
        np.testing.assert_allclose(both[f"{column}_report"], both[f"{column}_inference"], atol=1e-6)
    by_variant = {v: rows.set_index(keys) for v, rows in reported.groupby("variant")}
    order = both.set_index(keys).index
    report = both[[f"{c}_report" for c in PROB_COLUMNS]].to_numpy()
    same = np.allclose(by_variant["scratch"].loc[order, PROB_COLUMNS].to_numpy(), report)
    assert same == (grading == "alone"), "the chosen rows are the folds' there"
    if grading == "folds":  # the fold models' submitted probabilities, averaged
        each = [
            by_variant[v].loc[order, PROB_COLUMNS].to_numpy() for v in ("contrastive", "frozen")
        ]
        np.testing.assert_allclose(report, np.mean(each, axis=0), atol=1e-6)
    name = {"alone": "scratch", "folds": "scratch+2folds"}[grading]
    assert (inferred["variant"] == name).all()
    assert len(features) == len(held) and features.filter(like="f").shape[1] == 512 + 3


def test_inference_adapted_to_its_folder_grades_as_the_reports_adapted_rows(
    small_cohort, small_cohort_tables
):
    tables, images, held, priors, graders, calibration = _held_out(
        small_cohort, small_cohort_tables
    )
    shipped_grader = _shipped({"variant": "scratch"}, graders, calibration, {})
    reported, _ = grade_end_to_end(
        _as_found(held, tables.series),
        tables.series,
        images,
        graders,
        calibration,
        shipped_grader,
        priors,
    )
    inferred, _ = grade_condition(
        held,
        pd.DataFrame(columns=["study_id", "condition", "level", "reason"]),
        tables.series,
        images,
        _bundle(shipped_grader, priors),
        "foraminal",
        {"adapt_batchnorm": True},
    )
    keys = ["study_id", "condition", "level"]
    adapted = reported[reported["variant"] == "chosen+adabn"].set_index(keys)
    shipped = reported[reported["variant"] == "chosen"].set_index(keys)
    rows = inferred.set_index(keys).loc[adapted.index]
    assert len(adapted) == len(held) > 5
    np.testing.assert_allclose(adapted[PROB_COLUMNS], rows[PROB_COLUMNS], atol=1e-6)
    assert not np.allclose(shipped.loc[adapted.index, PROB_COLUMNS], adapted[PROB_COLUMNS])
    assert (inferred["variant"] == "scratch+adabn").all()


def test_fold_models_of_another_variant_are_refused():
    calibration = {v: as_trained() for v in ("contrastive", "scratch", "frozen")}
    folds = {"variant": "frozen", "folds": {"0": {"weights": {}, "calibration": {}}}}
    with pytest.raises(ValueError, match="fold_graders are of 'frozen'"):
        _shipped({"variant": "scratch"}, _graders(), calibration, folds)
