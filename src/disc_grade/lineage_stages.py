"""The DVC stages generated from the Kedro registry and the command each runs.

The phantom makes its cohort; train's stages follow: every condition's crops (``rois``), its study
and leave-site-out folds (``folds``, a DVC matrix of one cell per condition and fold,
``params.yaml``'s ``folds``), each condition's grading, the joint head and the report; then the
label-efficiency study (a DVC matrix of (fraction, seed) cells) and its report, and the
contrastive-pretraining ablation, each for the one condition ``params.yaml`` names: such a stage
is written from the first condition's namespace, then templated (``chosen``).
"""

from __future__ import annotations

import re
from pathlib import Path

from disc_grade.conditions import CONDITION_NAMES
from disc_grade.pipelines.train.pipeline import TRAIN_STAGES
from disc_grade.selection.cells import cell_name

PHANTOM_ROOT = "data/01_raw/phantom"  # the phantom's own folder, whatever params.yaml names
STAGES = ("phantom", *TRAIN_STAGES, "study", "study_report", "ablation")
STUDY_MATRIX = {"fraction": "${study.fractions}", "seed": "${study.seeds}"}
# one cell per condition and fold (study or leave-site-out), each can run on a machine of its own
FOLD_MATRIX = {"condition": list(CONDITION_NAMES), "fold": "${folds}"}
MATRICES = {"study": STUDY_MATRIX, "folds": FOLD_MATRIX}
CHOSEN = {
    "study": "${study.condition}",
    "study_report": "${study.condition}",
    "ablation": "${ablation_condition}",
}
PER_CELL = {"folds": "${item.condition}"}  # a cell's own
NAMESPACED = {**CHOSEN, **PER_CELL}
MODEL = CONDITION_NAMES[0]  # the namespace a chosen-condition stage is written from


def chosen(text: str, name: str) -> str:
    """``text`` of the model condition, written for the condition params.yaml chooses (or a
    matrix cell's own)."""
    if name not in NAMESPACED:
        return text
    chosen = NAMESPACED[name]
    return text.replace(f"/{MODEL}/", f"/{chosen}/").replace(f"{MODEL}.", f"{chosen}.")


def stage_pipeline(name: str) -> str:
    """The Kedro pipeline a stage runs (a condition's stage: its namespace of ``condition``)."""
    return "condition" if name in CONDITION_NAMES else name


def stage_cmd(name: str) -> str:
    """The command of one stage: the phantom into its own folder, the others on params.yaml's data."""
    if name == "phantom":
        return f"kedro run --pipelines=phantom --params=raw_root={PHANTOM_ROOT}"
    cmd = (
        f"kedro run --pipelines={stage_pipeline(name)} --env=${{kedro_env}} "
        "--params=raw_root=${raw_root}"
    )
    if name == "study":  # one cell of the grid
        cmd += ",{c}.study.fraction=${{item.fraction}},{c}.study.seed=${{item.seed}}".format(
            c=CHOSEN[name]
        )
    if name == "folds":  # one fold of one condition
        cmd += ",fold=${item.fold}"
    if name in NAMESPACED or name in CONDITION_NAMES:
        cmd += f" --namespaces={NAMESPACED.get(name, name)}"
    return cmd


def _environments(conf: Path) -> list[dict]:
    """The merged parameters of ``conf/base`` with each Kedro environment that has parameters."""
    from disc_grade.settings import CONFIG_LOADER_ARGS, CONFIG_LOADER_CLASS

    envs = [p.name for p in sorted(conf.iterdir()) if p.is_dir() and any(p.glob("parameters*"))]
    loaders = (
        CONFIG_LOADER_CLASS(str(conf), **{**CONFIG_LOADER_ARGS, "default_run_env": env})
        for env in envs
    )
    return [loader["parameters"] for loader in loaders]


def _largest(environments: list[dict], paths: list[tuple[str, ...]]) -> int:
    """The largest value at any of ``paths`` (keys into the parameters, a missing one 0) in any
    of the ``environments``' merged parameters.

    Raises:
        ValueError: one is null (every fold: DVC's matrix needs a number), named by its path.
    """
    most = 0
    for params, path in ((p, path) for p in environments for path in paths):
        block = params
        for key in path[:-1]:
            block = block.get(key) or {}
        value = block.get(path[-1], 0)
        if value is None:
            raise ValueError(f"{'.'.join(path)} is null: name a number for DVC's folds matrix")
        most = max(most, int(value))
    return most


def fold_cells(conf: Path) -> list[str]:
    """``params.yaml``'s ``folds``: one cell per study fold of the environment that deals the
    most (``split.n_folds``, ``k0``, ``k1``, ...), then one per leave-site-out fold of the
    condition and environment that leaves the most sites out (``leave_site_out.max_sites``,
    ``s0``, ...); ``k0`` at least, which writes empty partitions where there are no folds.

    Raises:
        ValueError: a condition's ``max_sites`` is null (every training site).
    """
    environments = _environments(conf)
    studies = _largest(environments, [("split", "n_folds")])
    sites = _largest(environments, [(c, "leave_site_out", "max_sites") for c in CONDITION_NAMES])
    cells = [cell_name("study", k) for k in range(studies)]
    return cells + [cell_name("site", k) for k in range(sites)] or [cell_name("study", 0)]


def params_with_folds(project: Path) -> str:
    """``params.yaml`` with its ``folds`` line derived from the parameters (``fold_cells``)."""
    text = (project / "params.yaml").read_text()
    cells = ", ".join(fold_cells(project / "conf"))
    return re.sub(r"^folds: .*$", f"folds: [{cells}]", text, count=1, flags=re.MULTILINE)
