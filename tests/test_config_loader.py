"""The parameters' YAML templates (top-level keys starting with ``_``) are not parameters."""

from __future__ import annotations

import pytest

from disc_grade.conditions import CONDITION_NAMES
from disc_grade.settings import CONFIG_LOADER_ARGS, CONFIG_LOADER_CLASS
from tests.conftest import PROJECT_ROOT


def _loader(runtime_params: dict | None = None):
    conf = str(PROJECT_ROOT / "conf")
    return CONFIG_LOADER_CLASS(conf, runtime_params=runtime_params, **CONFIG_LOADER_ARGS)


def test_the_parameters_hold_no_template_and_every_condition_its_merged_blocks():
    params = _loader()["parameters"]
    assert not [k for k in params if str(k).startswith("_")]
    for name in CONDITION_NAMES:  # the templates still reach the conditions that merge them
        assert {"pretraining", "finetuning", "calibration", "leave_site_out"} <= set(params[name])
        assert (
            params[name]["calibration"]["confidence"]
            == params["spinal"]["calibration"]["confidence"]
        )


def test_a_runtime_parameter_naming_a_template_is_refused_by_name():
    with pytest.raises(ValueError, match=r"_finetuning.*spinal\.finetuning\.lr"):
        _loader({"_finetuning": {"lr": 1.0}})["parameters"]
    params = _loader({"spinal": {"finetuning": {"lr": 1.0}}})["parameters"]
    assert params["spinal"]["finetuning"]["lr"] == 1.0
