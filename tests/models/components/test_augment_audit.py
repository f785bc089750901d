"""The augmentation audit: views must keep the canal compromise that grading reads."""

import pytest
import torch

from disc_grade.models.components.augment import AugmentConfig
from disc_grade.models.components.augment_audit import (
    COMPROMISES,
    audit_augmentations,
    canal_images,
    violations,
    visible_compromise,
)
from tests.conftest import PROJECT_ROOT

CONF = PROJECT_ROOT / "conf"
BOUND = 0.05  # conf/base/parameters_conditions.yml: augment_audit_bound
CONDITIONS = ("spinal", "foraminal", "subarticular")


def _conf(env: str, condition: str, name: str) -> dict:
    """A condition's block ``name`` as a run in ``env`` reads it (conf/base, then env)."""
    from kedro.config import OmegaConfigLoader

    loader = OmegaConfigLoader(
        str(CONF), base_env="base", default_run_env=env, merge_strategy={"parameters": "soft"}
    )
    return loader["parameters"][condition][name]


def test_the_measure_reads_the_compromise_in_order_and_ignores_brightness():
    truth = torch.tensor(COMPROMISES)
    clean = canal_images(truth, 48, 60 / 48)
    seen = visible_compromise(clean, 60 / 48)
    assert torch.all(seen[1:] > seen[:-1] + 0.1)  # monotone, well separated
    assert torch.allclose(seen, truth, atol=0.12)
    assert torch.allclose(visible_compromise(clean * 1.7 + 0.2, 60 / 48), seen, atol=1e-4)


@pytest.mark.parametrize("condition", CONDITIONS)
@pytest.mark.parametrize("env", ["base", "paper"])
@pytest.mark.parametrize("stage", ["pretraining", "finetuning"])
def test_configured_views_keep_the_grade_evidence(condition, env, stage):
    roi = _conf(env, condition, "roi")
    augment = _conf(env, condition, stage)["augment"]
    distortion = audit_augmentations(
        AugmentConfig.from_params(augment), int(roi["size_px"]), float(roi["extent_mm"])
    )
    assert set(distortion) == {k for k, v in augment.items() if v}
    assert violations(distortion, BOUND) == {}, distortion


def test_the_bound_in_conf_is_the_one_tested():
    for condition in CONDITIONS:
        assert _conf("base", condition, "pretraining")["augment_audit_bound"] == BOUND


@pytest.mark.parametrize("bad", [{"blur": 2.0}, {"blur": 1.2}, {"bias_field": 0.6}, {"noise": 0.3}])
def test_a_view_that_changes_the_canal_fails_the_audit(bad):
    distortion = audit_augmentations(AugmentConfig(**bad), 48, 60.0)
    assert set(violations(distortion, BOUND)) == set(bad), distortion


def test_geometry_and_intensity_changes_alone_pass():
    cfg = AugmentConfig(
        gamma=0.4, contrast=0.3, brightness=0.1, rotation_deg=10, scale=0.1, shift=0.08
    )
    assert violations(audit_augmentations(cfg, 48, 60.0), BOUND) == {}
