"""dvc.yaml agrees with the Kedro registry, and `dvc repro` reproduces `make run`'s results."""

from __future__ import annotations

import json
import shutil
import sys

import pytest
import yaml

from disc_grade.conditions import CONDITION_NAMES
from disc_grade.lineage import (
    NAMESPACED,
    PHANTOM_ROOT,
    STAGES,
    build,
    params_with_folds,
    render,
    stage_cmd,
    stage_pipeline,
)
from disc_grade.lineage_stages import fold_cells
from tests.conftest import PROJECT_ROOT
from tests.project_copy import merge, ran, run, tiny_copy


@pytest.fixture(scope="module")
def generated():
    return build(PROJECT_ROOT)


def test_dvc_yaml_is_up_to_date_with_the_registry(generated):
    assert (PROJECT_ROOT / "dvc.yaml").read_text() == render(generated), "run `make dvc-yaml`"


def test_the_fold_matrix_is_derived_from_the_parameters(tmp_path):
    """params.yaml's folds are every study fold of the environment that deals the most (the
    paper profile's five), then every leave-site-out fold of the condition and environment that
    leaves the most sites out, as ``make dvc-yaml`` writes them: a sixth study fold is a sixth
    cell, three sites three more; a null max_sites (every site) is refused by name, since DVC's
    matrix needs a number."""
    assert fold_cells(PROJECT_ROOT / "conf") == ["k0", "k1", "k2", "k3", "k4"]
    params = yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text())
    assert params["folds"] == fold_cells(PROJECT_ROOT / "conf"), "run `make dvc-yaml`"
    conf = tmp_path / "conf"
    shutil.copytree(PROJECT_ROOT / "conf", conf)
    shutil.copy(PROJECT_ROOT / "params.yaml", tmp_path / "params.yaml")
    (conf / "paper" / "parameters_split.yml").write_text("split: {n_folds: 6}\n")
    extra = conf / "local" / "parameters_sites.yml"
    extra.write_text("foraminal: {leave_site_out: {max_sites: 3}}\n")
    cells = [f"k{k}" for k in range(6)] + ["s0", "s1", "s2"]
    assert fold_cells(conf) == cells
    assert yaml.safe_load(params_with_folds(tmp_path))["folds"] == cells
    extra.write_text("foraminal: {leave_site_out: {max_sites: null}}\n")
    with pytest.raises(ValueError, match=r"foraminal\.leave_site_out\.max_sites is null"):
        fold_cells(conf)


def _read_params(pipeline, name: str) -> set[str]:
    read = {
        i.removeprefix("params:")
        for node in pipeline.nodes
        for i in node.inputs
        if i.startswith("params:") and i != "params:raw_root"
    }
    if name in NAMESPACED:  # written from the spinal namespace for the condition params.yaml
        # names (or a cell's own); a parameter outside every namespace stays as it is
        chosen = NAMESPACED[name]
        read = {k.replace("spinal.", chosen + ".") if k.startswith("spinal.") else k for k in read}
    return read


def test_every_output_input_and_parameter_is_tracked(generated):
    from kedro.framework.project import pipelines

    stages = generated["stages"]
    assert list(stages) == list(STAGES)
    produced: dict[str, str] = {}
    for name, stage in stages.items():
        assert stage["cmd"] == stage_cmd(name)
        if name != "phantom":  # the data and environment params.yaml names, as deps and params
            assert (
                "--params=raw_root=${raw_root}" in stage["cmd"]
                and "--env=${kedro_env}" in stage["cmd"]
            )
            assert "conf/${kedro_env}" in stage["deps"] and "conf/base/catalog.yml" in stage["deps"]
            tracked = next(e["params.yaml"] for e in stage["params"] if "params.yaml" in e)
            assert {"kedro_env", "raw_root"} <= set(tracked)
            assert not any(o.startswith("data/01_raw") for o in stage["outs"]), "raw data is no out"
        files = stage["outs"] + [
            next(iter(m)) for m in stage.get("metrics", []) + stage.get("plots", [])
        ]
        for path in files:
            assert path not in produced, f"{path} is an out of both {produced.get(path)} and {name}"
            produced[path] = name
        params = {
            k
            for entry in stage.get("params", [])
            for file, keys in entry.items()
            for k in keys
            if file != "params.yaml"
        }
        pipeline = pipelines[stage_pipeline(name)]
        if name in CONDITION_NAMES or name in NAMESPACED:
            pipeline = pipeline.only_nodes_with_namespaces(
                [name if name in CONDITION_NAMES else "spinal"]
            )
        read = _read_params(pipeline, name)
        assert read == params, f"stage {name} tracks {params}, its nodes read {read}"
        package = stage_pipeline(name)
        assert any(d.startswith(f"src/disc_grade/pipelines/{package}/") for d in stage["deps"])
    for name, stage in stages.items():
        for dep in stage["deps"]:
            dep = dep.replace("${raw_root}", PHANTOM_ROOT)  # the default data: the phantom's
            if dep.startswith(f"{PHANTOM_ROOT}/"):
                assert produced[PHANTOM_ROOT] == "phantom"
            elif dep == "data/07_model_output/${study.condition}/study":  # the grid's cells
                assert any(p.startswith(dep + "/") and s == "study" for p, s in produced.items())
            elif (
                dep.startswith("data/") and "/folds" in dep
            ):  # a condition's fold folder: the folds cells' partitions
                cell = dep.replace(f"/{name}/", "/${item.condition}/") + "/${item.fold}"
                assert any(p.startswith(cell) and s == "folds" for p, s in produced.items()), dep
                assert STAGES.index("folds") < STAGES.index(name)
            elif dep.startswith("data/") and "${" in dep:  # a chosen condition's file
                for chosen in ("${study.condition}", "${ablation_condition}", "${item.condition}"):
                    dep = dep.replace(chosen, "spinal")
                assert dep in produced and STAGES.index(produced[dep]) < STAGES.index(name), dep
            elif dep.startswith("data/"):
                assert dep in produced, f"{name} depends on {dep}, which no stage produces"
                assert STAGES.index(produced[dep]) < STAGES.index(name)
    for name in CONDITION_NAMES:  # every condition's figures are DVC metrics of its stage
        assert {
            f"data/08_reporting/{name}/{m}.json"
            for m in (
                "metrics",
                "ceiling",
                "end_to_end_metrics",
                "encoder_probe",
                "localiser_metrics",
            )
        } == {next(iter(m)) for m in stages[name]["metrics"]}
    assert stages["report"]["metrics"] == [
        {f"data/08_reporting/{name}.json": {"cache": False}} for name in ("gaps", "rsna_score")
    ]


def test_a_dataset_the_lineage_cannot_place_stops_it_named():
    from disc_grade.catalog_files import UnplacedDataset, filepath

    class Broken:
        def _describe(self):
            raise OSError("no such bucket")

    class Catalog:
        def __contains__(self, name):
            return True

        def get(self, name):
            return Broken()

    with pytest.raises(UnplacedDataset, match="'spinal.metrics'"):
        filepath(Catalog(), "spinal.metrics")


@pytest.mark.e2e
def test_dvc_repro_reproduces_make_run_and_reruns_only_downstream(tmp_path):
    repro = tiny_copy(tmp_path / "repro")
    plain = tiny_copy(tmp_path / "plain")
    # the dvc.yaml of the copy still matches the registry under the tiny parameters
    assert (repro / "dvc.yaml").read_text() == render(build(repro))

    assert ran(run(["dvc", "repro"], repro)) == set(STAGES)
    run(
        [sys.executable, "-m", "kedro", "run", "--pipelines=phantom"], plain
    )  # what `make run` runs
    run([sys.executable, "-m", "kedro", "run", "--pipelines=train"], plain)
    for metrics in ("data/08_reporting/spinal/metrics.json", "data/08_reporting/rsna_score.json"):
        assert json.loads((repro / metrics).read_text()) == json.loads(
            (plain / metrics).read_text()
        )

    assert ran(run(["dvc", "repro"], repro)) == set(), "a second repro runs nothing"

    path = repro / "conf" / "base" / "parameters_conditions.yml"
    path.write_text(
        yaml.safe_dump(
            merge(yaml.safe_load(path.read_text()), {"spinal": {"finetuning": {"lr": 0.002}}}),
            sort_keys=False,
        )
    )
    status = json.loads(run(["dvc", "status", "--json"], repro).strip().splitlines()[-1])
    # the canal's fine-tuning changed: the canal's fold cells and grading, the joint head, the
    # report, the model bundle (through the canal's shipped grader: it reads no parameter of
    # the canal), and the study and ablation of the canal (params.yaml's condition); the
    # foramina and recesses are untouched
    downstream = {
        "folds",
        "spinal",
        "joint",
        "report",
        "bundle",
        "study",
        "study_report",
        "ablation",
    }
    changed = {name.split("@")[0] for name in status}  # the others change once their inputs do
    assert changed == downstream - {"study_report", "report", "joint", "bundle"}, status
    assert {n for n in status if n.startswith("folds@")} == {"folds@spinal-k0"}, status
    # what a repro would run (dry: the stages changed and everything below them; the rerun
    # itself is the same `dvc repro` as above, so it is not paid for twice)
    dry = run(["dvc", "repro", "--dry", "--force-downstream"], repro)
    assert ran(dry) == downstream, dry
