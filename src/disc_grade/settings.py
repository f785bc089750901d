"""Project settings: Kedro defaults, with the OmegaConf loader reading ``conf/base`` then the run env."""

from kedro.config import OmegaConfigLoader

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
}
