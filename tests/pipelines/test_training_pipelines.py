"""The finetuning pipeline's namespaces, and the registry's train pipeline."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from disc_grade.pipelines.finetuning import create_pipeline as finetuning
from disc_grade.pipelines.finetuning.pipeline import VARIANTS
from tests.conftest import TINY_RUN_PARAMS, run_kedro


def test_each_variant_has_its_own_namespace_outputs_and_parameters():
    pipeline = finetuning()
    for variant in VARIANTS:
        nodes = [n for n in pipeline.nodes if n.namespace == variant]
        assert len(nodes) == 1
        node = nodes[0]
        assert set(node.outputs) == {
            f"{variant}.grader_model",
            f"{variant}.training_curve",
            f"{variant}.variant_predictions",
        }
        assert f"params:finetuning_variants.{variant}" in node.inputs
        assert {"disc_rois", "roi_index", "pretrained_encoder"} <= set(node.inputs)
    outputs = [o for n in pipeline.nodes for o in n.outputs]
    assert len(outputs) == len(set(outputs)), "no output is shared between variants"


def test_train_is_the_default_and_never_contains_the_phantom():
    from kedro.framework.project import configure_project, pipelines

    configure_project("disc_grade")
    train = pipelines["train"]
    names = {n.name for n in train.nodes}
    assert "make_phantom_cohort" not in names
    assert {
        "scan_dicom_headers",
        "align_disc_labels",
        "extract_disc_rois",
        "pretrain_contrastive_encoder",
        "contrastive.finetune_variant",
        "combine_predictions",
    } <= names
    assert pipelines["__default__"].nodes == train.nodes


@pytest.mark.e2e
def test_train_pipeline_end_to_end_on_a_tiny_phantom(kedro_project):
    params = TINY_RUN_PARAMS
    run_kedro(kedro_project, "phantom", params)
    run_kedro(kedro_project, "train", params)
    import pandas as pd

    predictions = pd.read_parquet(kedro_project / "data/07_model_output/predictions.parquet")
    assert set(predictions["variant"]) == set(VARIANTS)
    assert set(predictions["split"]) <= {"validation", "test", "external_test"}
    assert np.allclose(
        predictions[["p_normal_mild", "p_moderate", "p_severe"]].sum(axis=1), 1, atol=1e-4
    )
    weights = {
        v: torch.load(kedro_project / f"data/06_models/{v}/grader.pt", weights_only=True)
        for v in VARIANTS
    }
    key = "encoder.conv1.weight"
    assert not torch.equal(weights["contrastive"][key], weights["scratch"][key])
    encoder = torch.load(kedro_project / "data/06_models/pretrained_encoder.pt", weights_only=True)
    assert torch.equal(weights["frozen"][key], encoder["conv1.weight"]), (
        "frozen keeps the pretrained encoder"
    )
    assert not torch.equal(weights["contrastive"][key], encoder["conv1.weight"]), (
        "contrastive fine-tunes it"
    )

    # the foraminal and subarticular families: both sides graded by every variant, each family
    # with its own checkpoints, the full RSNA score beside the graders that never look
    import json

    for family, sides in (
        ("foraminal", {"left_neural_foraminal_narrowing", "right_neural_foraminal_narrowing"}),
        ("subarticular", {"left_subarticular_stenosis", "right_subarticular_stenosis"}),
    ):
        table = pd.read_parquet(
            kedro_project / f"data/07_model_output/{family}/predictions.parquet"
        )
        assert set(table["variant"]) == set(VARIANTS) and set(table["condition"]) == sides
        reconciliation = pd.read_csv(
            kedro_project / f"data/08_reporting/{family}/alignment_reconciliation.csv"
        )
        assert reconciliation["balanced"].all() and set(reconciliation["condition"]) == sides
        own = torch.load(
            kedro_project / f"data/06_models/{family}/contrastive/grader.pt", weights_only=True
        )
        assert not torch.equal(own[key], weights["contrastive"][key])
    score = json.loads((kedro_project / "data/08_reporting/rsna_score.json").read_text())
    assert set(score) == {*VARIANTS, "prior", "weighted_prior"}
    assert all(s["n_spinal"] > 0 and s["n_foraminal"] > 0 for s in score.values())
    report = (kedro_project / "data/08_reporting/report.md").read_text()
    assert "Foraminal stenosis" in report and "Subarticular stenosis" in report
    assert "RSNA score over all five conditions" in report

    # inference on the same studies without their labels: 25 rows per study, in the
    # sample_submission layout, every family graded or flagged
    from disc_grade.evaluation.rsna_score import score_submission
    from disc_grade.rsna import submission_targets

    run_kedro(
        kedro_project,
        "inference",
        {**params, "input_root": str(kedro_project / "data/01_raw/phantom/train_images")},
    )
    out = kedro_project / "data/07_model_output/inference"
    submission = pd.read_csv(out / "submission.csv")
    studies = sorted(pd.read_csv(kedro_project / "data/01_raw/phantom/train.csv")["study_id"])
    assert list(submission.columns) == ["row_id", "normal_mild", "moderate", "severe"]
    expected = [f"{s}_{c}_{lv}" for s, c, lv in submission_targets(studies)]
    assert submission["row_id"].tolist() == expected and len(expected) == 25 * len(studies)
    grades = pd.read_csv(out / "grades.csv")
    family_rows = grades[~grades["condition"].str.startswith("spinal")]
    assert family_rows["graded"].any(), "the family graders grade new studies"
    assert (family_rows["graded"] | family_rows["flag"].notna()).all()
    score = score_submission(
        submission, pd.read_csv(kedro_project / "data/01_raw/phantom/train.csv")
    )
    assert 0 < score["rsna_score"] < 5
