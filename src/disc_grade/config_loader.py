"""The project's config loader: Kedro's OmegaConf loader, parameters without their templates.

``conf/base/parameters_conditions.yml`` writes each block once as a YAML anchor under a
top-level key that starts with ``_`` (``_pretraining``, ``_calibration``, ...) and every
condition merges it. Kedro drops such keys from the catalog; here they are dropped from the
parameters too, so that no node or ``kedro viz`` meets a template no code reads, and a
``--params`` that names one (which would change nothing) is refused.
"""

from __future__ import annotations

from typing import Any

from kedro.config import OmegaConfigLoader


class TemplateFreeConfigLoader(OmegaConfigLoader):
    """``OmegaConfigLoader`` whose ``parameters`` hold no top-level key starting with ``_``."""

    def __getitem__(self, key: str) -> dict[str, Any]:
        config = super().__getitem__(key)
        if key != "parameters":
            return config
        templates = sorted(str(k) for k in (self.runtime_params or {}) if str(k).startswith("_"))
        if templates:
            raise ValueError(
                f"--params names {templates}: a template of conf, which no node reads; name a "
                "condition's own key instead (e.g. spinal.finetuning.lr)"
            )
        return {k: v for k, v in config.items() if not str(k).startswith("_")}
