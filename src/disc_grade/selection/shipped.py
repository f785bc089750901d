"""What ships for a condition: the selection room's decisions turned into one shipped grader.

``ship_grader`` writes it once, in the condition pipeline: the variant validation (or the folds)
chose, its weights, its calibration and rule, the study-fold models where they ship, the ROI it
crops and the network its weights are. The model bundle carries it as it is; ``grader_of`` turns it
into the ``Grader`` that grades, for the report's end-to-end rows and for inference alike, so
neither rebuilds the choice.
"""

from __future__ import annotations

from typing import Any

from disc_grade.inference.grade_points import Grader
from disc_grade.models.training.recipe import Recipe


def ship_grader(
    chosen_grader: dict,
    grader_models: dict[str, dict],
    calibration: dict,
    fold_graders: dict,
    roi: dict[str, Any],
    recipe: Recipe,
) -> tuple[dict, dict]:
    """The grader validation chose, with all it grades with ({} if the condition is skipped;
    ``grader_models``: every variant's weights, by name; its network: ``recipe.network``), and
    the record of the choices it was made from, as the report reads them: every variant's
    ``calibration`` and the ``chosen_grader``.

    Raises:
        ValueError: ``chosen_grader`` names a variant without weights or calibration, or the
            fold models are of another variant.
    """
    variant = chosen_grader.get("variant")
    decisions = {"calibration": calibration, "chosen_grader": chosen_grader}
    if not variant:
        return {}, decisions
    weights = grader_models.get(variant)
    if not weights or variant not in calibration:
        raise ValueError(f"chosen_grader names '{variant}', which has no weights or calibration")
    folds = fold_graders or {}
    if folds.get("folds") and folds.get("variant") != variant:
        raise ValueError(
            f"fold_graders are of '{folds.get('variant')}', chosen_grader names "
            f"'{variant}': rerun the train pipeline"
        )
    shipped = {
        "variant": variant,
        "weights": weights,
        "calibration": calibration[variant],
        "chosen_grader": chosen_grader,
        "folds": folds,
        "roi": roi,
        **recipe.network,
    }
    return shipped, decisions


def adapts(inference: dict[str, Any], chosen_grader: dict) -> bool:
    """Whether the grader's BatchNorm statistics adapt to the folder's crops:
    ``inference.adapt_batchnorm`` where it is true or false, else (null) what the leave-site-out
    folds decided for the chosen grader (``chosen_grader.adapt_batchnorm``; false without folds).

    Raises:
        ValueError: ``adapt_batchnorm`` is neither null nor a boolean.
    """
    setting = inference.get("adapt_batchnorm")
    if setting is None:
        return bool(chosen_grader.get("adapt_batchnorm", False))
    if not isinstance(setting, bool):
        raise ValueError(f"inference.adapt_batchnorm must be null, true or false, got {setting!r}")
    return setting


def grader_of(shipped: dict, adapt: bool = False) -> Grader:
    """The ``Grader`` a shipped grader grades with (``adapt``: see ``Grader``)."""
    folds = shipped["folds"].get("folds") or {}
    return Grader(
        shipped["variant"],
        shipped["weights"],
        shipped["calibration"],
        adapt,
        tuple(folds[k] for k in sorted(folds, key=int)),
    )


def network_of(shipped: dict) -> dict[str, Any]:
    """The fine-tuning block a shipped grader's network is built from (device and encoder)."""
    return {"device": shipped["device"], "encoder": shipped["encoder"]}
