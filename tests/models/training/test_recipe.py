"""A training recipe key that no code reads is refused by its full name, before a run."""

from __future__ import annotations

import copy
import os
import subprocess
import sys

import pytest
from kedro.config import OmegaConfigLoader

from disc_grade.conditions import CONDITION_NAMES
from disc_grade.models.training.recipe import check_recipes
from disc_grade.settings import CONFIG_LOADER_ARGS


def _parameters(env: str) -> dict:
    """``conf/base`` merged with ``env`` as the project's settings merge them."""
    loader = OmegaConfigLoader("conf", **{**CONFIG_LOADER_ARGS, "default_run_env": env})
    return loader["parameters"]


@pytest.mark.parametrize("env", ["local", "paper", "realistic"])
def test_every_shipped_profile_names_only_keys_the_code_reads(env):
    check_recipes(_parameters(env), CONDITION_NAMES)


@pytest.mark.parametrize(
    ("path", "named"),
    [
        (
            ("spinal", "finetuning", "weight_decy"),
            "spinal.finetuning.weight_decy (did you mean 'weight_decay'?)",
        ),
        (("foraminal", "pretraining", "slice_positives"), "foraminal.pretraining.slice_positives"),
        (
            ("subarticular", "finetuning", "average_epochs"),
            "subarticular.finetuning.average_epochs",
        ),
        (("spinal", "finetuning", "encoder", "window"), "spinal.finetuning.encoder.window"),
        (
            ("spinal", "pretraining", "augment", "slice_shift"),
            "spinal.pretraining.augment.slice_shift",
        ),
    ],
)
def test_a_misspelt_or_retired_key_is_refused_by_its_full_name(path, named):
    parameters = copy.deepcopy(_parameters("local"))
    block = parameters
    for key in path[:-1]:
        block = block[key]
    block[path[-1]] = 1
    with pytest.raises(ValueError) as refused:
        check_recipes(parameters, CONDITION_NAMES)
    assert named in str(refused.value)


def test_the_retired_study_context_head_block_is_refused_by_name():
    parameters = copy.deepcopy(_parameters("local"))
    parameters["foraminal"]["context"] = {"use": True}
    with pytest.raises(
        ValueError, match=r"foraminal\.context \(the study-context head was retired"
    ):
        check_recipes(parameters, CONDITION_NAMES)


def test_an_ablation_recipe_override_is_checked_too():
    parameters = copy.deepcopy(_parameters("local"))
    parameters["spinal"]["ablation"]["recipes"]["simclr"]["pretraining"]["temprature"] = 0.2
    with pytest.raises(
        ValueError, match=r"spinal\.ablation\.recipes\.simclr\.pretraining\.temprature"
    ):
        check_recipes(parameters, CONDITION_NAMES)


@pytest.mark.e2e
def test_kedro_run_refuses_a_retired_key_before_any_node_runs():
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "kedro",
            "run",
            "--pipelines=split",
            "--params=spinal.finetuning.average_epochs=2",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "true"},
    )
    assert done.returncode != 0
    assert "spinal.finetuning.average_epochs" in done.stdout + done.stderr
    assert "Running node" not in done.stdout + done.stderr
