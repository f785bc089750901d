"""A throw-away copy of the project at the tiny settings, and running commands in it as a user would.

``tiny_copy`` copies every tracked file (no data), shrinks the configuration to the tiny
phantom's scale (``TINY``) and makes the copy a git repository, so ``dvc`` and ``make`` run in
it exactly as in a user's clone.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import CONDITIONS, PROJECT_ROOT, TINY_CONDITION, TINY_PHANTOM

TINY = {
    "parameters_phantom.yml": {"phantom": TINY_PHANTOM},
    "parameters_ingestion.yml": {"ingestion": {"workers": 1}},
    "parameters_conditions.yml": {condition: TINY_CONDITION for condition in CONDITIONS},
}


def merge(base: dict, change: dict) -> dict:
    out = dict(base)
    for key, value in change.items():
        out[key] = merge(base.get(key, {}), value) if isinstance(value, dict) else value
    return out


def tiny_copy(target: Path) -> Path:
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
        config = merge(yaml.safe_load(path.read_text()), change)
        for condition in CONDITIONS if name == "parameters_conditions.yml" else ():
            ablation = config[condition]["ablation"]  # two recipes, one share, one seed
            recipes = {k: ablation["recipes"][k] for k in ("scratch", "supcon")}
            config[condition]["ablation"] = {
                **ablation,
                "fractions": [1.0],
                "seeds": [0],
                "recipes": recipes,
            }
        path.write_text(yaml.safe_dump(config, sort_keys=False))
    (target / "dvc.lock").unlink(missing_ok=True)
    params = yaml.safe_load((target / "params.yaml").read_text())
    params["study"] = {**params["study"], "fractions": [0.5, 1.0], "seeds": [0]}  # two cells
    params["folds"] = ["k0"]  # one fold cell per condition (the tiny split deals no fold)
    (target / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    for args in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.email=ci@example.invalid", "-c", "user.name=ci", "commit", "-qm", "copy"],
    ):
        subprocess.run(["git", *args], cwd=target, check=True)
    return target


def run(cmd: list[str], cwd: Path) -> str:
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


def ran(output: str) -> set[str]:
    """The stages a repro ran; the cells of a matrix stage (``study@0.5-0``) count as ``study``."""
    return {
        line.split("'")[1].split("@")[0]
        for line in output.splitlines()
        if line.startswith("Running stage '")
    }


def digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }
