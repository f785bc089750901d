"""dvc.yaml agrees with the Kedro registry, and `dvc repro` reproduces `make run`'s results."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from disc_grade.lineage import PHANTOM_ROOT, STAGES, build, render, stage_cmd
from tests.conftest import PROJECT_ROOT, TINY_LOCALISER


@pytest.fixture(scope="module")
def generated():
    return build(PROJECT_ROOT)


def test_dvc_yaml_is_up_to_date_with_the_registry(generated):
    assert (PROJECT_ROOT / "dvc.yaml").read_text() == render(generated), "run `make dvc-yaml`"


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
            assert {"params.yaml": ["kedro_env", "raw_root"]} in stage["params"]
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
        read = {
            i.removeprefix("params:")
            for node in pipelines[name].nodes
            for i in node.inputs
            if i.startswith("params:") and i != "params:raw_root"
        }
        assert read == params, f"stage {name} tracks {params}, its nodes read {read}"
        assert any(d.startswith(f"src/disc_grade/pipelines/{name}/") for d in stage["deps"])
    for name, stage in stages.items():
        for dep in stage["deps"]:
            dep = dep.replace("${raw_root}", PHANTOM_ROOT)  # the default data: the phantom's
            if dep.startswith(f"{PHANTOM_ROOT}/"):
                assert produced[PHANTOM_ROOT] == "phantom"
            elif dep == "data/07_model_output/study":  # the folder of the grid's cells
                assert any(p.startswith(dep + "/") and s == "study" for p, s in produced.items())
            elif dep.startswith("data/"):
                assert dep in produced, f"{name} depends on {dep}, which no stage produces"
                assert STAGES.index(produced[dep]) < STAGES.index(name)
    assert {
        "data/08_reporting/metrics.json",
        "data/08_reporting/ceiling.json",
        "data/08_reporting/end_to_end_metrics.json",
    } == {next(iter(m)) for m in stages["evaluation"]["metrics"]}


TINY = {
    "parameters_phantom.yml": {
        "phantom": {
            "workers": 1,
            "cohort": {"n_studies": 10, "image_size": 96, "n_sagittal_slices": 5},
        }
    },
    "parameters_ingestion.yml": {"ingestion": {"workers": 1}},
    "parameters_roi.yml": {"roi": {"size_px": 24, "workers": 1}},
    "parameters_pretraining.yml": {
        "pretraining": {"epochs": 1, "batch_size": 16, "encoder": {"depth": 10}, "checkpoint": None}
    },
    "parameters_finetuning.yml": {
        "finetuning": {
            "epochs": 1,
            "batch_size": 16,
            "encoder": {"depth": 10},
            "checkpoint_dir": None,
        }
    },
    "parameters_evaluation.yml": {"evaluation": {"n_resamples": 50}},
    "parameters_localiser.yml": {"localiser": TINY_LOCALISER},
    "parameters_families.yml": {
        "families": {
            family: {"roi": {"size_px": 24, "workers": 1}}
            for family in ("foraminal", "subarticular")
        }
    },
}


def _merge(base: dict, change: dict) -> dict:
    out = dict(base)
    for key, value in change.items():
        out[key] = _merge(base.get(key, {}), value) if isinstance(value, dict) else value
    return out


def _tiny_copy(target: Path) -> Path:
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    for rel in tracked.stdout.split():
        if rel.startswith("data/") and not rel.endswith(".gitkeep"):
            continue
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT_ROOT / rel, target / rel)
    for name, change in TINY.items():
        path = target / "conf" / "base" / name
        path.write_text(
            yaml.safe_dump(_merge(yaml.safe_load(path.read_text()), change), sort_keys=False)
        )
    (target / "dvc.lock").unlink(missing_ok=True)
    path = target / "conf" / "base" / "parameters_ablation.yml"
    ablation = yaml.safe_load(path.read_text())["ablation"]
    ablation.update(fractions=[1.0], seeds=[0])
    ablation["recipes"] = {k: ablation["recipes"][k] for k in ("scratch", "supcon")}  # two recipes
    path.write_text(yaml.safe_dump({"ablation": ablation}, sort_keys=False))
    params = yaml.safe_load((target / "params.yaml").read_text())
    params["study"] = {"fractions": [0.5, 1.0], "seeds": [0]}  # two cells of the grid
    (target / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    for args in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.email=ci@example.invalid", "-c", "user.name=ci", "commit", "-qm", "copy"],
    ):
        subprocess.run(["git", *args], cwd=target, check=True)
    return target


def _run(cmd: list[str], cwd: Path) -> str:
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "KEDRO_DISABLE_TELEMETRY": "true",
        "DVC_NO_ANALYTICS": "1",
    }
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, (
        f"{' '.join(cmd)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return done.stdout + done.stderr


def _ran(output: str) -> set[str]:
    """The stages a repro ran; the cells of a matrix stage (``study@0.5-0``) count as ``study``."""
    return {
        line.split("'")[1].split("@")[0]
        for line in output.splitlines()
        if line.startswith("Running stage '")
    }


@pytest.mark.e2e
def test_dvc_repro_reproduces_make_run_and_reruns_only_downstream(tmp_path):
    repro = _tiny_copy(tmp_path / "repro")
    plain = _tiny_copy(tmp_path / "plain")
    # the dvc.yaml of the copy still matches the registry under the tiny parameters
    assert (repro / "dvc.yaml").read_text() == render(build(repro))

    assert _ran(_run(["dvc", "repro"], repro)) == set(STAGES)
    _run(
        [sys.executable, "-m", "kedro", "run", "--pipelines=phantom"], plain
    )  # what `make run` runs
    _run([sys.executable, "-m", "kedro", "run", "--pipelines=train"], plain)
    metrics = "data/08_reporting/metrics.json"
    assert json.loads((repro / metrics).read_text()) == json.loads((plain / metrics).read_text())

    assert _ran(_run(["dvc", "repro"], repro)) == set(), "a second repro runs nothing"

    path = repro / "conf" / "base" / "parameters_finetuning.yml"
    path.write_text(
        yaml.safe_dump(
            _merge(yaml.safe_load(path.read_text()), {"finetuning": {"lr": 0.002}}), sort_keys=False
        )
    )
    status = json.loads(_run(["dvc", "status", "--json"], repro).strip().splitlines()[-1])
    downstream = {"finetuning", "families", "evaluation", "study", "study_report", "ablation"}
    changed = {name.split("@")[0] for name in status}  # study_report changes once a cell has
    assert changed == downstream - {"study_report"}, status
    assert _ran(_run(["dvc", "repro"], repro)) == downstream


def _digests(root: Path) -> dict[str, str]:
    import hashlib

    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.mark.e2e
def test_dvc_repro_on_a_users_download_never_touches_it(tmp_path):
    from disc_grade.phantom.anatomy import PhantomConfig
    from disc_grade.phantom.cohort import write_cohort
    from disc_grade.provenance import PHANTOM_MARKER

    project = _tiny_copy(tmp_path / "team")
    # a cohort written outside the phantom pipeline, placed as a user places the download
    download = project / "data" / "01_raw" / "rsna"
    write_cohort(download, PhantomConfig(n_studies=10, seed=5, image_size=96, n_sagittal_slices=5))
    for marker in download.rglob(PHANTOM_MARKER):
        marker.unlink()
    before = _digests(download)
    _run(["dvc", "config", "cache.type", "hardlink,symlink"], project)
    _run(["dvc", "add", "-q", "data/01_raw/rsna"], project)
    params = yaml.safe_load((project / "params.yaml").read_text())
    (project / "params.yaml").write_text(
        yaml.safe_dump({**params, "raw_root": "data/01_raw/rsna"}, sort_keys=False)
    )

    assert _ran(_run(["dvc", "repro"], project)) == set(STAGES)
    source = json.loads((project / "data/08_reporting/data_source.json").read_text())
    assert source["raw_root"] == "data/01_raw/rsna" and not source["phantom"]
    assert "not written by the phantom" in (project / "data/08_reporting/report.md").read_text()
    assert _ran(_run(["dvc", "repro"], project)) == set(), "a second repro runs nothing"

    path = project / "conf" / "base" / "parameters_finetuning.yml"
    path.write_text(
        yaml.safe_dump(
            _merge(yaml.safe_load(path.read_text()), {"finetuning": {"lr": 0.002}}), sort_keys=False
        )
    )
    assert _ran(_run(["dvc", "repro"], project)) == {
        "finetuning",
        "families",
        "evaluation",
        "study",
        "study_report",
        "ablation",
    }
    # a change in the environment's folder re-runs every stage that reads the configuration
    (project / "conf" / "local" / "parameters_evaluation.yml").write_text(
        "evaluation:\n  n_resamples: 60\n"
    )
    assert _ran(_run(["dvc", "repro"], project)) == set(STAGES) - {"phantom"}
    assert _digests(download) == before, "a raw file changed"
    assert "modified" not in _run(["dvc", "status", "data/01_raw/rsna.dvc"], project)
