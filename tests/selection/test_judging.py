"""A condition's settings are parsed once: a bad criterion is refused before anything trains."""

from __future__ import annotations

import pytest

from disc_grade.selection.judging import condition_settings

VARIANTS = {v: {"name": v} for v in ("contrastive", "scratch", "frozen")}


def test_a_bad_criterion_is_refused_by_name_and_a_good_one_is_kept():
    blocks = ({}, {"encoder": {}}, VARIANTS)
    with pytest.raises(ValueError, match=r"selection\.by must be one of"):
        condition_settings(*blocks, {"by": "accuracy"}, {}, {}, {})
    recipe, judging = condition_settings(*blocks, {"by": "balanced_accuracy"}, {}, {}, {})
    assert judging.by == "balanced_accuracy" and [v["name"] for v in recipe.ordered] == list(
        VARIANTS
    )
    with pytest.raises(ValueError, match=r"finetuning_variants has no \['frozen'\]"):
        condition_settings({}, {}, {k: VARIANTS[k] for k in ("contrastive", "scratch")}, *[{}] * 4)
