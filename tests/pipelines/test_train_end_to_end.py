"""The train pipeline end to end on a tiny phantom (the shared run, ``conftest.trained``): one
test per thing it must have written, each failing on its own."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
import torch

from disc_grade.conditions import CONDITION_NAMES
from disc_grade.evaluation.pooled_gaps import pooled
from disc_grade.pipelines.condition.bundle import REPORT_FIGURES
from disc_grade.pipelines.condition.grade import VARIANTS
from disc_grade.rsna import PROB_COLUMNS
from tests.conftest import run_kedro
from tests.pipelines.conftest import (
    cells,
    chosen_graders,
    held_out_ids,
    read_json,
)

pytestmark = pytest.mark.e2e


def test_the_held_out_site_trains_nothing(trained):
    assert trained.splits.loc[trained.no_t2, "split"] == "external_test"
    for name in CONDITION_NAMES:
        roi_index = pd.read_parquet(trained.data / f"05_model_input/{name}/roi_index.parquet")
        units = pd.read_parquet(trained.data / f"04_feature/{name}/localiser_units.parquet")
        assert trained.no_t2 not in set(roi_index.loc[roi_index["split"] == "train", "study_id"])
        assert trained.no_t2 not in set(units["study_id"]), f"{name} localiser trained on it"


@pytest.mark.parametrize("name", CONDITION_NAMES)
def test_every_condition_writes_its_predictions_and_figures(trained, name):
    data = trained.data
    predictions = pd.read_parquet(data / f"07_model_output/{name}/predictions.parquet")
    assert set(predictions["variant"]) == set(VARIANTS)
    assert set(predictions["split"]) <= {"validation", "test", "external_test"}
    assert np.allclose(predictions[PROB_COLUMNS].sum(axis=1), 1)
    reconciliation = pd.read_csv(data / f"08_reporting/{name}/alignment_reconciliation.csv")
    assert reconciliation["balanced"].all()
    for output in (
        *(f"figures/{figure}.png" for figure in REPORT_FIGURES),
        "end_to_end_metrics.json",
        "results.json",
    ):
        size = (data / f"08_reporting/{name}/{output}").stat().st_size
        assert size > 100, (name, output)


def test_each_variant_starts_from_the_encoder_as_it_should(trained):
    models = trained.data / "06_models"
    weights = torch.load(models / "spinal/graders.pt", weights_only=True)
    assert set(weights) == set(VARIANTS)
    key = "encoder.conv1.weight"
    assert not torch.equal(weights["contrastive"][key], weights["scratch"][key])
    encoder = torch.load(models / "spinal/encoder.pt", weights_only=True)
    assert torch.equal(weights["frozen"][key], encoder["conv1.weight"]), "frozen keeps it"
    assert not torch.equal(weights["contrastive"][key], encoder["conv1.weight"]), "tuned"
    own = torch.load(models / "foraminal/graders.pt", weights_only=True)["contrastive"]
    assert not torch.equal(own[key], weights["contrastive"][key]), "each condition its own grader"


def test_the_rsna_score_and_its_gaps(trained):
    data = trained.data
    scores = read_json(data / "08_reporting/rsna_score.json")
    assert set(scores) == {"test", "external_test"}
    for score in scores.values():
        # ``stacked``: the study stacker, fitted on the two folds' out-of-fold rows
        expected = {*VARIANTS, "chosen", "joint", "stacked", "prior", "weighted_prior", "floor"}
        assert set(score) == expected
        graded = [s for name, s in score.items() if name != "floor"]
        assert all(s["n_spinal"] > 0 and s["n_foraminal"] > 0 for s in graded)
        assert score["floor"]["available"]
        assert score["floor"]["rsna_score"] < score["prior"]["rsna_score"]
    gaps = read_json(data / "08_reporting/gaps.json")  # the same, resampled
    assert set(gaps["rsna_score"]) == {*scores, "difference"}
    for split, score in scores.items():
        gap = gaps["rsna_score"][split]
        expected = score["chosen"]["rsna_score"] - score["floor"]["rsna_score"]
        assert gap["gap"] == pytest.approx(expected) and gap["ci_low"] <= gap["ci_high"]
    assert gaps["conditions"]["spinal"]["difference"]
    resamples = pd.read_parquet(data / "08_reporting/gap_resamples.parquet")  # what pools them
    pooled_alone = pooled({"run": resamples}).set_index(["target", "split"])
    assert pooled_alone.loc[("rsna_score", "difference"), "ci_low"] == pytest.approx(
        gaps["rsna_score"]["difference"]["ci_low"]
    )


def test_the_canal_weighs_its_leave_site_out_fold(trained):
    chosen = chosen_graders(trained.data)
    assert all(c["variant"] in VARIANTS and not c["overridden"] for c in chosen.values())
    folds = cells(trained.data / "07_model_output/spinal/folds/predictions", "s")
    left_out = folds.loc[folds["split"] == "site_out", "study_id"]
    test = set(trained.splits.index[trained.splits["split"] == "test"])
    assert len(left_out) and not set(left_out) & test
    assert chosen["spinal"]["leave_site_out"]["used"], chosen["spinal"]["leave_site_out"]
    assert "max_sites is 0" in chosen["foraminal"]["leave_site_out"]["why"]


@pytest.mark.parametrize("name", CONDITION_NAMES)
def test_the_choice_is_made_out_of_fold_and_the_fold_models_ship(trained, name):
    data, test_ids = trained.data, held_out_ids(trained)
    chosen = chosen_graders(data)[name]
    oof = cells(data / f"07_model_output/{name}/folds/predictions", "k")
    left_out = oof[oof["split"] == "fold_out"]
    assert set(left_out["fold_left_out"]) == {0, 1} and not set(left_out["study_id"]) & test_ids
    for _, rows in left_out.groupby("variant"):
        assert not rows.duplicated(["study_id", "condition", "level"]).any()
    assert chosen["out_of_fold"]["used"], chosen["out_of_fold"]
    averaged = read_json(data / f"08_reporting/{name}/fold_average_metrics.json")
    assert {v: averaged[v]["n_folds"] for v in VARIANTS} == dict.fromkeys(VARIANTS, 2)
    rois = pd.read_parquet(data / f"05_model_input/{name}/roi_index.parquet")
    held = set(rois["split"]) & {"test", "external_test"}  # a split with ROIs is averaged
    assert "test" in held and set(averaged["scratch"]) == {"n_folds", *held}, name
    shipped = torch.load(data / f"06_models/{name}/fold_graders.pt", weights_only=True)
    assert shipped["variant"] == chosen["variant"] and sorted(shipped["folds"]) == ["0", "1"]
    stacked_on = pd.read_parquet(data / f"07_model_output/{name}/out_of_fold_predictions.parquet")
    assert set(stacked_on["split"]) == {"fold_out"} and not set(stacked_on["study_id"]) & test_ids


def test_a_fold_graded_alone_writes_what_train_wrote(trained, tmp_path):
    """As a DVC cell grades it: one study fold of one condition (in a copy of the run)."""
    project = tmp_path / "project"
    shutil.copytree(trained.project, project)
    cell = project / "data/07_model_output/foraminal/folds/predictions/k1.parquet"
    together = pd.read_parquet(cell)
    assert set(together["fold_left_out"]) == {1} and len(together)
    cell.unlink()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(project)
        alone = {**trained.params, "fold": "k1"}
        run_kedro(project, "folds", alone, namespaces=["foraminal"])
    pd.testing.assert_frame_equal(pd.read_parquet(cell), together)


def test_the_stacker_is_judged_out_of_fold_and_on_the_left_out_site(trained):
    stacker = read_json(trained.data / "08_reporting/joint.json")["stacker"]
    assert stacker["families"] and all(
        f["out_of_fold"]["n_studies"] >= 5 for f in stacker["families"].values()
    )
    # the canal's leave-site-out fold judges its stacker on the site it left out; no other's
    assert stacker["families"]["spinal"]["left_out_sites"]["n_studies"] > 0
    assert stacker["families"]["foraminal"]["left_out_sites"] is None


def test_the_report_has_every_section_in_order(trained):
    report = (trained.data / "08_reporting/report.md").read_text()
    assert "the study stacker" in report
    assert "choices across sites" in report and "What each technique bought" in report
    assert "RSNA score minus its floor" in report, "the summary shows the gaps"
    for title in (
        "## Spinal canal stenosis\n",
        "## Neural foraminal narrowing\n",
        "## Subarticular stenosis\n",
        "## How close to the data's limit\n",
        "RSNA score over all five conditions (in-site test)",
        "RSNA score over all five conditions (held-out-site test)",
        "## A scanner the graders never saw: adaptation without labels\n",
    ):
        assert title in report, title
    assert report.index("## Summary") < report.index("## Contents") < report.index("## Data")
