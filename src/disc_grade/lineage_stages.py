"""The DVC stages generated from the Kedro registry and the command each runs.

The phantom makes its cohort; train's stages follow (each condition its own); then the
label-efficiency study (a DVC matrix of (fraction, seed) cells) and its report, and the
contrastive-pretraining ablation, each for the one condition ``params.yaml`` names: such a stage
is written from the first condition's namespace, then templated (``chosen``).
"""

from __future__ import annotations

from disc_grade.conditions import CONDITION_NAMES
from disc_grade.pipelines.train.pipeline import TRAIN_STAGES

PHANTOM_ROOT = "data/01_raw/phantom"  # the phantom's own folder, whatever params.yaml names
STAGES = ("phantom", *TRAIN_STAGES, "study", "study_report", "ablation")
STUDY_MATRIX = {"fraction": "${study.fractions}", "seed": "${study.seeds}"}
CHOSEN = {
    "study": "${study.condition}",
    "study_report": "${study.condition}",
    "ablation": "${ablation_condition}",
}
MODEL = CONDITION_NAMES[0]  # the namespace a chosen-condition stage is written from


def chosen(text: str, name: str) -> str:
    """``text`` of the model condition, written for the condition params.yaml chooses."""
    if name not in CHOSEN:
        return text
    return text.replace(f"/{MODEL}/", f"/{CHOSEN[name]}/").replace(f"{MODEL}.", f"{CHOSEN[name]}.")


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
    if name in CHOSEN or name in CONDITION_NAMES:
        cmd += f" --namespaces={CHOSEN.get(name, name)}"
    return cmd
