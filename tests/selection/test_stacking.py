"""The joint stage's study stacker: fitted on the out-of-fold rows only, applied to the test
studies' shipped probabilities where kept, and at inference to the graded targets alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from disc_grade.conditions import CONDITION_NAMES, SPECS
from disc_grade.inference.joint import stack_grades
from disc_grade.rsna import PROB_COLUMNS, SEVERITIES
from disc_grade.selection.out_of_fold import OUT_OF_FOLD
from disc_grade.selection.stacking import STACKED, stack_studies
from tests.models.grading.test_stacker import PARAMS, _cohort

JOINT = {"stacker": {**PARAMS, "use": None}}


def _with_oof(scored: pd.DataFrame, oof: pd.DataFrame) -> pd.DataFrame:
    """``scored`` as a condition's bundle hands it on: its out-of-fold rows appended."""
    oof = oof.assign(variant=OUT_OF_FOLD, split="fold_out", predicted=0)
    return pd.concat([scored, oof], ignore_index=True)


def _scored(shared: float) -> pd.DataFrame:
    test = _cohort(60, shared, 1, first=1000).assign(split="test")
    train = _cohort(20, shared, 2, first=2000).assign(split="train")
    table = pd.concat([test, train], ignore_index=True)
    return table.assign(variant="chosen", predicted=table[PROB_COLUMNS].to_numpy().argmax(1))


def test_kept_families_replace_the_test_probabilities_and_keep_the_grades():
    scored = _scored(0.5)
    bundle, metrics, out = stack_studies(JOINT, {}, {}, _with_oof(scored, _cohort(300, 0.5, 0)))
    assert OUT_OF_FOLD not in set(out["variant"])  # taken out before the report
    assert all(f["kept"] for f in bundle["stacker"]["families"].values())
    chosen = out[out["variant"] == "chosen"].set_index(["split", "study_id", "condition", "level"])
    given = scored.set_index(["split", "study_id", "condition", "level"]).loc[chosen.index]
    test = chosen.index.get_level_values("split") == "test"
    assert not np.allclose(chosen[PROB_COLUMNS][test], given[PROB_COLUMNS][test])
    assert np.allclose(chosen[PROB_COLUMNS][~test], given[PROB_COLUMNS][~test])  # never train
    assert (chosen["predicted"] == given["predicted"]).all()
    assert len(out[out["variant"] == STACKED]) == int(test.sum())
    for figures in metrics["stacker"]["test"].values():
        assert figures["test"]["stacked_log_loss"] < figures["test"]["shipped_log_loss"]


def test_without_folds_or_switched_off_nothing_changes():
    scored = _scored(0.5)
    bundle, metrics, out = stack_studies(JOINT, {"x": 1}, {}, scored)
    assert bundle == {"x": 1} and out.equals(scored) and metrics["stacker"]["skipped"]
    off = {"stacker": {**JOINT["stacker"], "use": False}}
    _, metrics, out = stack_studies(off, {}, {}, _with_oof(scored, _cohort(300, 0.5, 0)))
    assert out.equals(scored) and "switched off" in metrics["stacker"]["reason"]
    with pytest.raises(ValueError, match="joint.stacker.use"):
        stack_studies({"stacker": {**PARAMS, "use": "yes"}}, {}, {}, scored)


def test_inference_stacks_the_graded_targets_of_kept_families_only():
    bundle, _, _ = stack_studies(JOINT, {}, {}, _with_oof(_scored(0.5), _cohort(300, 0.5, 0)))
    bundle["stacker"]["families"]["subarticular"]["kept"] = False
    study = _cohort(1, 0.5, 9, first=7000)
    grades = {}
    for name in CONDITION_NAMES:
        rows = study[study["condition"].isin(SPECS[name].conditions)].reset_index(drop=True)
        rows = rows.assign(graded=True, variant="scratch", grade=SEVERITIES[0])
        rows.loc[0, "graded"] = False  # a target the localiser did not find: prior, not stacked
        rows.loc[0, PROB_COLUMNS] = np.nan
        grades[name] = rows
    out = stack_grades(bundle, grades)
    for name in CONDITION_NAMES:
        moved = ~np.isclose(
            out[name][PROB_COLUMNS], grades[name][PROB_COLUMNS], equal_nan=True
        ).all(axis=1)
        stacked = out[name]["variant"].str.endswith("+stacked")
        assert (moved == stacked).all() and not stacked.iloc[0]
        assert stacked.iloc[1:].all() == (name != "subarticular")
        assert (out[name]["grade"] == grades[name]["grade"]).all()


def test_a_family_that_ships_the_joint_head_is_not_stacked():
    """The stacker learnt from the plain graders' out-of-fold rows: a condition whose shipped
    probabilities are the joint head's keeps them."""
    scored = _scored(0.5)
    head = {"conditions": {"foraminal": {"kept": True}, "spinal": {"kept": False}}}
    bundle, _, out = stack_studies(JOINT, head, {}, _with_oof(scored, _cohort(300, 0.5, 0)))
    families = bundle["stacker"]["families"]
    assert not families["foraminal"]["kept"] and families["foraminal"]["kept_by_validation"]
    assert families["spinal"]["kept"]
    keys = ["split", "study_id", "condition", "level"]
    chosen = out[out["variant"] == "chosen"].set_index(keys).sort_index()
    given = scored.set_index(keys).loc[chosen.index]
    foraminal = chosen.index.get_level_values("condition").str.contains("foraminal")
    assert np.allclose(chosen[PROB_COLUMNS][foraminal], given[PROB_COLUMNS][foraminal])
    assert not np.allclose(chosen[PROB_COLUMNS][~foraminal], given[PROB_COLUMNS][~foraminal])
