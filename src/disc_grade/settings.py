"""Project settings: the OmegaConf loader reads ``conf/base`` then the run environment.

Parameters merge softly: an environment such as ``conf/paper`` overrides only the keys it
names and keeps the rest of ``conf/base``.
"""

from kedro.config import OmegaConfigLoader

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "merge_strategy": {"parameters": "soft", "globals": "soft"},
}

from disc_grade.datasets.rank_local import RankZeroWritesHook  # noqa: E402
from disc_grade.hooks import RecipeCheckHook  # noqa: E402

# under torchrun only rank 0 writes the pipeline's outputs; a recipe key no code reads is refused
HOOKS = (RankZeroWritesHook(), RecipeCheckHook())
