"""Project settings: the OmegaConf loader reads ``conf/base`` then the run environment.

Parameters merge softly: an environment such as ``conf/paper`` overrides only the keys it
names and keeps the rest of ``conf/base``. The YAML templates of the parameters (top-level keys
starting with ``_``) are not parameters (``config_loader.TemplateFreeConfigLoader``).
"""

from disc_grade.config_loader import TemplateFreeConfigLoader

CONFIG_LOADER_CLASS = TemplateFreeConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "merge_strategy": {"parameters": "soft", "globals": "soft"},
}

from disc_grade.datasets.rank_local import RankZeroWritesHook  # noqa: E402
from disc_grade.hooks import RecipeCheckHook  # noqa: E402

# under torchrun only rank 0 writes the pipeline's outputs; a recipe key no code reads is refused
HOOKS = (RankZeroWritesHook(), RecipeCheckHook())
