"""Project hooks: every run's parameters checked before any node runs."""

from __future__ import annotations

from kedro.framework.hooks import hook_impl

from disc_grade.conditions import CONDITION_NAMES


class RecipeCheckHook:
    """A key of a condition's training recipe that no code reads is refused by name
    (``models.training.recipe``), conf and ``--params`` alike, before the run starts."""

    @hook_impl
    def after_context_created(self, context) -> None:
        from disc_grade.models.training.recipe import check_recipes  # torch: only when run

        check_recipes(context.params, CONDITION_NAMES)
