"""One condition pipeline for every condition, its variants' namespaces, and the train pipeline."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from disc_grade.conditions import CONDITION_NAMES
from disc_grade.evaluation.pooled_gaps import pooled
from disc_grade.pipelines.condition.bundle import REPORT_FIGURES
from disc_grade.pipelines.condition.grade import VARIANTS
from disc_grade.pipelines.condition.pipeline import condition_pipeline, for_condition
from disc_grade.rsna import PROB_COLUMNS
from tests.conftest import TINY_RUN_PARAMS, run_kedro


def _own_datasets(name: str) -> set[str]:
    """Every dataset of a condition's namespace, the namespace stripped."""
    pipeline = for_condition(name)
    names = pipeline.all_inputs() | pipeline.all_outputs()
    return {d.removeprefix(f"{name}.") for d in names if d.startswith(f"{name}.")}


def _cells(folder) -> pd.DataFrame:
    """A folds folder's partitions (one parquet file per fold cell), as one table."""
    parts = [pd.read_parquet(path) for path in sorted(folder.glob("*.parquet"))]
    return pd.concat([p for p in parts if len(p)], ignore_index=True)


def test_every_condition_has_the_same_datasets_under_its_own_namespace():
    first, *others = CONDITION_NAMES
    assert len(_own_datasets(first)) > 40
    for other in others:
        assert _own_datasets(other) == _own_datasets(first), other
    # one definition: every condition is the same modular pipeline under its namespace
    base = {n.name for n in condition_pipeline().nodes}
    for name in CONDITION_NAMES:
        assert {n.name.removeprefix(f"{name}.") for n in for_condition(name).nodes} == base
        assert {n.namespace.split(".")[0] for n in for_condition(name).nodes} == {name}


def test_a_conditions_parameters_are_its_own_block():
    for name in CONDITION_NAMES:
        params = {i for n in for_condition(name).nodes for i in n.inputs if i.startswith("params:")}
        assert params and all(p.startswith(f"params:{name}.") for p in params), params


def test_each_variant_has_its_own_namespace_inside_its_condition():
    pipeline = for_condition("foraminal")
    for variant in VARIANTS:
        nodes = [n for n in pipeline.nodes if n.namespace == f"foraminal.{variant}"]
        assert len(nodes) == 1
        assert set(nodes[0].outputs) == {
            f"foraminal.{variant}.{d}"
            for d in ("grader_model", "training_curve", "variant_predictions")
        }
        assert f"params:foraminal.finetuning_variants.{variant}" in nodes[0].inputs
    outputs = [o for n in pipeline.nodes for o in n.outputs]
    assert len(outputs) == len(set(outputs)), "no output is shared between nodes"


def test_train_is_the_default_and_never_contains_the_phantom():
    from kedro.framework.project import configure_project, pipelines

    configure_project("disc_grade")
    train = pipelines["train"]
    names = {n.name for n in train.nodes}
    assert "make_phantom_cohort" not in names
    assert {"scan_dicom_headers", "split_studies", "write_report"} <= names
    for name in CONDITION_NAMES:
        assert {f"{name}.align_condition", f"{name}.contrastive.finetune_variant"} <= names
    assert pipelines["__default__"].nodes == train.nodes


@pytest.mark.e2e
def test_train_pipeline_end_to_end_on_a_tiny_phantom(kedro_project):
    # 14 studies, so that each of two study folds holds two training studies (a head fitted
    # per fold needs one to fit on and one to stop on)
    cohort = {**TINY_RUN_PARAMS["phantom"]["cohort"], "n_studies": 14}
    params = {**TINY_RUN_PARAMS, "phantom": {**TINY_RUN_PARAMS["phantom"], "cohort": cohort}}
    run_kedro(kedro_project, "phantom", params)
    # hold out the site of the study without sagittal T2: it must train nothing, anywhere
    truth = pd.read_csv(kedro_project / "data/01_raw/phantom/phantom_truth.csv")
    series = pd.read_csv(kedro_project / "data/01_raw/phantom/train_series_descriptions.csv")
    no_t2 = sorted(
        set(truth["study_id"])
        - set(series.loc[series.series_description.str.contains("T2/"), "study_id"])
    )
    assert len(no_t2) == 1
    site = truth.loc[truth["study_id"] == no_t2[0], "site"].iloc[0]
    # the foramina's study-context head grades whatever validation says (context.use: true); the
    # canal's choice weighs a leave-site-out fold
    params = {
        **params,
        "foraminal": {**params["foraminal"], "context": {"use": True}},
        "spinal": {**params["spinal"], "leave_site_out": {"max_sites": 1}},
    }
    # two study folds (a validation study in each): the variant is chosen out of fold
    split = {
        "holdout_sites": [f"phantom site {site}"],
        "n_folds": 2,
        "train": 0.5,
        "validation": 0.3,
    }
    run_kedro(kedro_project, "train", {**params, "split": split})
    data = kedro_project / "data"
    splits = pd.read_parquet(data / "02_intermediate/study_splits.parquet").set_index("study_id")
    assert splits.loc[no_t2[0], "split"] == "external_test"
    for name in CONDITION_NAMES:
        roi_index = pd.read_parquet(data / f"05_model_input/{name}/roi_index.parquet")
        units = pd.read_parquet(data / f"04_feature/{name}/localiser_units.parquet")
        assert no_t2[0] not in set(roi_index.loc[roi_index["split"] == "train", "study_id"])
        assert no_t2[0] not in set(units["study_id"]), f"{name} localiser trained on it"
        predictions = pd.read_parquet(data / f"07_model_output/{name}/predictions.parquet")
        assert set(predictions["variant"]) == set(VARIANTS)
        assert set(predictions["split"]) <= {"validation", "test", "external_test"}
        assert np.allclose(predictions[["p_normal_mild", "p_moderate", "p_severe"]].sum(axis=1), 1)
        reconciliation = pd.read_csv(data / f"08_reporting/{name}/alignment_reconciliation.csv")
        assert reconciliation["balanced"].all()
        for output in (
            *(f"figures/{figure}.png" for figure in REPORT_FIGURES),
            "end_to_end_metrics.json",
            "results.json",
        ):
            size = (data / f"08_reporting/{name}/{output}").stat().st_size
            assert size > 100, (name, output)
    weights = {
        v: torch.load(data / f"06_models/spinal/{v}/grader.pt", weights_only=True) for v in VARIANTS
    }
    key = "encoder.conv1.weight"
    assert not torch.equal(weights["contrastive"][key], weights["scratch"][key])
    encoder = torch.load(data / "06_models/spinal/encoder.pt", weights_only=True)
    assert torch.equal(weights["frozen"][key], encoder["conv1.weight"]), "frozen keeps it"
    assert not torch.equal(weights["contrastive"][key], encoder["conv1.weight"]), (
        "contrastive tunes it"
    )
    own = torch.load(data / "06_models/foraminal/contrastive/grader.pt", weights_only=True)
    assert not torch.equal(own[key], weights["contrastive"][key]), "each condition its own grader"
    scores = json.loads((data / "08_reporting/rsna_score.json").read_text())
    assert set(scores) == {"test", "external_test"}
    for score in scores.values():
        # ``stacked``: the study stacker, fitted on the two folds' out-of-fold rows
        expected = {*VARIANTS, "chosen", "joint", "stacked", "prior", "weighted_prior", "floor"}
        assert set(score) == expected
        graded = [s for name, s in score.items() if name != "floor"]
        assert all(s["n_spinal"] > 0 and s["n_foraminal"] > 0 for s in graded)
        assert (
            score["floor"]["available"]
            and score["floor"]["rsna_score"] < score["prior"]["rsna_score"]
        )
    gaps = json.loads((data / "08_reporting/gaps.json").read_text())  # the same, resampled
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
    chosen = {
        name: json.loads((data / f"06_models/{name}/chosen_grader.json").read_text())
        for name in CONDITION_NAMES
    }
    assert all(c["variant"] in VARIANTS and not c["overridden"] for c in chosen.values())
    folds = _cells(data / "07_model_output/spinal/site_folds/predictions")
    left_out = folds.loc[folds["split"] == "site_out", "study_id"]
    assert len(left_out) and not set(left_out) & set(splits.index[splits["split"] == "test"])
    assert chosen["spinal"]["leave_site_out"]["used"], chosen["spinal"]["leave_site_out"]
    assert "max_sites is 0" in chosen["foraminal"]["leave_site_out"]["why"]
    test_ids = set(splits.index[splits["split"].isin(["test", "external_test"])])
    for name in CONDITION_NAMES:
        oof = _cells(data / f"07_model_output/{name}/study_folds/predictions")
        left_out = oof[oof["split"] == "fold_out"]
        assert set(left_out["fold_left_out"]) == {0, 1} and not set(left_out["study_id"]) & test_ids
        for _, rows in left_out.groupby("variant"):
            assert not rows.duplicated(["study_id", "condition", "level"]).any()
        assert chosen[name]["out_of_fold"]["used"], chosen[name]["out_of_fold"]
        averaged = json.loads((data / f"08_reporting/{name}/fold_average_metrics.json").read_text())
        assert {v: averaged[v]["n_folds"] for v in VARIANTS} == dict.fromkeys(VARIANTS, 2)
        rois = pd.read_parquet(data / f"05_model_input/{name}/roi_index.parquet")
        held = set(rois["split"]) & {"test", "external_test"}  # a split with ROIs is averaged
        assert "test" in held and set(averaged["scratch"]) == {"n_folds", *held}, name
        shipped = torch.load(data / f"06_models/{name}/fold_graders.pt", weights_only=True)
        assert shipped["variant"] == chosen[name]["variant"] and sorted(shipped["folds"]) == [
            "0",
            "1",
        ]
        stacked_on = pd.read_parquet(
            data / f"07_model_output/{name}/out_of_fold_predictions.parquet"
        )
        assert (
            set(stacked_on["split"]) == {"fold_out"} and not set(stacked_on["study_id"]) & test_ids
        )
    # a fold graded alone, as a DVC cell grades it, writes what the train run wrote for it
    cell = data / "07_model_output/foraminal/study_folds/predictions/k1.parquet"
    together = pd.read_parquet(cell)
    assert set(together["fold_left_out"]) == {1} and len(together)
    cell.unlink()
    alone = {**params, "split": split, "study_fold": 1}
    run_kedro(kedro_project, "folds", alone, namespaces=["foraminal"])
    pd.testing.assert_frame_equal(pd.read_parquet(cell), together)
    stacker = json.loads((data / "08_reporting/joint.json").read_text())["stacker"]
    assert stacker["families"] and all(
        f["out_of_fold"]["n_studies"] >= 5 for f in stacker["families"].values()
    )
    # the canal's leave-site-out fold judges its stacker on the site it left out; no other's
    assert stacker["families"]["spinal"]["left_out_sites"]["n_studies"] > 0
    assert stacker["families"]["foraminal"]["left_out_sites"] is None
    report = (data / "08_reporting/report.md").read_text()
    assert "the study stacker" in report
    assert "choices across sites" in report and "What each technique bought" in report
    assert "RSNA score minus its floor" in report, "the summary shows the gaps"
    context = {
        name: json.loads((data / f"08_reporting/{name}/context.json").read_text())
        for name in CONDITION_NAMES
    }
    assert context["foraminal"]["kept"] and context["foraminal"]["overridden"]
    for name in CONDITION_NAMES:  # with study folds the heads are chosen out of fold
        assert context[name]["decided_on"] == "out_of_fold", name
        assert context[name]["out_of_fold"]["n_studies"] >= 5, name
    for name in CONDITION_NAMES:
        assert set(context[name]["figures"]) == {"grader", "per_target", "context"}, name
        assert context[name]["kept"] == (
            context[name]["kept_by_validation"] if name != "foraminal" else True
        )
    for split, score in scores.items():  # the kept head is what 'chosen' grades the foramina with
        heads = pd.read_parquet(data / "07_model_output/foraminal/context_predictions.parquet")
        assert set(heads["variant"]) == {"context"} and split in set(heads["split"])
        assert (
            score["chosen"]["foraminal_log_loss"]
            != score[chosen["foraminal"]["variant"]]["foraminal_log_loss"]
        )
    report = (data / "08_reporting/report.md").read_text()
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

    # inference on the same studies without their labels: 25 rows per study, in the
    # sample_submission layout, every condition graded or flagged
    from disc_grade.evaluation.rsna_targets import score_submission
    from disc_grade.rsna import submission_targets

    images = data / "01_raw/phantom/train_images"
    run_kedro(kedro_project, "inference", {**params, "input_root": str(images)})
    out = data / "07_model_output/inference"
    submission = pd.read_csv(out / "submission.csv")
    studies = sorted(pd.read_csv(data / "01_raw/phantom/train.csv")["study_id"])
    assert list(submission.columns) == ["row_id", "normal_mild", "moderate", "severe"]
    expected = [f"{s}_{c}_{lv}" for s, c, lv in submission_targets(studies)]
    assert submission["row_id"].tolist() == expected and len(expected) == 25 * len(studies)
    grades = pd.read_csv(out / "grades.csv")
    for condition, rows in grades.groupby(grades["condition"].str.split("_").str[-2]):
        assert rows["graded"].any(), condition
    joint_metrics = json.loads((data / "08_reporting/joint.json").read_text())
    joint = joint_metrics["conditions"]
    assert set(joint) == set(CONDITION_NAMES)
    assert all(joint[n]["decided_on"] == "out_of_fold" for n in CONDITION_NAMES), joint
    # the canal's one leave-site-out fold reaches the joint stage; the other conditions have none
    features = pd.read_parquet(data / "07_model_output/spinal/joint_features.parquet")
    assert set(features.loc[features["fold_left_out"] == -2, "fold_site"]) == set(
        folds["fold_site"]
    )
    assert all(joint[n]["left_out_sites"] is None for n in ("foraminal", "subarticular")), joint
    assert {"validation", "test", "external_test"} <= set(joint_metrics["novelty"]["by_split"])
    assert {"novelty", "unlike_training"} <= set(grades.columns)
    assert grades.groupby("study_id")["novelty"].nunique().max() == 1  # one figure a study
    for name in CONDITION_NAMES:  # each condition graded by the grader validation chose for it
        own = pd.read_csv(out / name / "grades.csv")
        used = chosen[name]["variant"] + ("+context" if context[name]["kept"] else "")
        # the chosen variant's two fold models average (split.n_folds 2, selection.fold_average)
        assert chosen[name]["fold_average"] and chosen[name]["n_folds"] == 2, chosen[name]
        used += "+2folds" if not context[name]["kept"] else ""
        used += "+adabn" if chosen[name].get("adapt_batchnorm") else ""
        used += "+joint" if joint[name]["kept"] else ""
        assert set(own.loc[own["graded"], "variant"]) == {used}, name
    assert (grades["graded"] | grades["flag"].notna()).all()
    score = score_submission(submission, pd.read_csv(data / "01_raw/phantom/train.csv"))
    assert 0 < score["rsna_score"] < 5
    # the report's end-to-end 'chosen' rows are what inference ships: same points, same grades
    # no joint head in end-to-end; a grader that adapts its BatchNorm to the crops it grades
    # adapts to the whole folder in inference, to one split in the report
    alone = [
        n for n in CONDITION_NAMES if not joint[n]["kept"] and not chosen[n].get("adapt_batchnorm")
    ]
    matched = [_same_points_same_grades(data, out / n / "grades.csv", n) for n in alone]
    assert sum(matched) >= 10, matched


def _same_points_same_grades(data, inference_grades, name: str) -> int:
    """The end-to-end 'chosen' rows and inference's grades agree wherever a target was found at
    the same point (the foramina's and recesses' localisers find from the labelled canal points
    in evaluation and from the found ones in inference, so a few points differ); where a
    study-context head grades, a study's every target must agree, as it reads them all. Returns
    how many targets were compared."""
    keys = ["study_id", "condition", "level"]
    where = ["series_id", "slice_rank", "x", "y"]
    errors = pd.read_csv(data / f"07_model_output/{name}/localiser_errors.csv")
    found = errors[errors["found"]][[*keys, "series_id_pred", "slice_rank", "x_pred", "y_pred"]]
    found.columns = [*keys, *where]
    shipped = pd.read_parquet(data / f"07_model_output/{name}/end_to_end_predictions.parquet")
    shipped = shipped[shipped["variant"] == "chosen"].merge(found, on=keys)
    inferred = pd.read_csv(inference_grades).query("graded")
    both = shipped.merge(inferred, on=keys, suffixes=("_report", "_inference"))
    same = np.ones(len(both), dtype=bool)
    for column in where:
        same &= np.isclose(both[f"{column}_report"], both[f"{column}_inference"], atol=1e-3)
    context = json.loads((data / f"08_reporting/{name}/context.json").read_text())
    if context["kept"]:
        graded = inferred.groupby("study_id").size()
        agree = both.assign(same=same).groupby("study_id")["same"].agg(["all", "size"])
        whole = agree.index[agree["all"] & (agree["size"] == graded.reindex(agree.index))]
        same &= both["study_id"].isin(whole).to_numpy()
    for column in PROB_COLUMNS:
        np.testing.assert_allclose(
            both.loc[same, f"{column}_report"],
            both.loc[same, f"{column}_inference"],
            atol=1e-4,
            err_msg=name,
        )
    return int(same.sum())
