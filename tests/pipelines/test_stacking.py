"""The joint stage's study stacker: fitted on the out-of-fold rows only, applied to the test
studies' shipped probabilities where kept, and at inference to the graded targets alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from disc_grade.conditions import CONDITION_NAMES, SPECS
from disc_grade.inference.joint import stack_grades
from disc_grade.pipelines.joint.stacking import STACKED, stack_studies
from disc_grade.rsna import PROB_COLUMNS, SEVERITIES
from tests.models.grading.test_stacker import PARAMS, _cohort

JOINT = {"stacker": {**PARAMS, "use": None}}


def _out_of_fold(table: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {
        f"{name}__out_of_fold_predictions": table[table["condition"].isin(SPECS[name].conditions)]
        for name in CONDITION_NAMES
    }


def _scored(shared: float) -> pd.DataFrame:
    test = _cohort(60, shared, 1, first=1000).assign(split="test")
    train = _cohort(20, shared, 2, first=2000).assign(split="train")
    table = pd.concat([test, train], ignore_index=True)
    return table.assign(variant="chosen", predicted=table[PROB_COLUMNS].to_numpy().argmax(1))


def test_kept_families_replace_the_test_probabilities_and_keep_the_grades():
    scored = _scored(0.5)
    bundle, metrics, out = stack_studies(
        JOINT, {}, {}, scored, **_out_of_fold(_cohort(300, 0.5, 0))
    )
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
    empty = {k: v.iloc[:0] for k, v in _out_of_fold(_cohort(5, 0.5, 0)).items()}
    bundle, metrics, out = stack_studies(JOINT, {"x": 1}, {}, scored, **empty)
    assert bundle == {"x": 1} and out is scored and metrics["stacker"]["skipped"]
    off = {"stacker": {**JOINT["stacker"], "use": False}}
    _, metrics, out = stack_studies(off, {}, {}, scored, **_out_of_fold(_cohort(300, 0.5, 0)))
    assert out is scored and "switched off" in metrics["stacker"]["reason"]
    with pytest.raises(ValueError, match="joint.stacker.use"):
        stack_studies({"stacker": {**PARAMS, "use": "yes"}}, {}, {}, scored, **empty)


def test_inference_stacks_the_graded_targets_of_kept_families_only():
    bundle, _, _ = stack_studies(JOINT, {}, {}, _scored(0.5), **_out_of_fold(_cohort(300, 0.5, 0)))
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
