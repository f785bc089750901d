"""The study stacker on a site the leave-site-out folds left out: kept where the relations it
learnt in-site hold there too, dropped where they do not (the site veto), and never fitted on the
site it is judged on."""

from __future__ import annotations

import pandas as pd
import pytest

from disc_grade.models.grading.stacker_sites import left_out_site_gains
from disc_grade.selection.out_of_fold import OUT_OF_FOLD
from disc_grade.selection.stacking import stack_studies
from tests.models.grading.test_stacker import PARAMS, _cohort

STACKER = {**PARAMS, "use": None}


def _scored(in_site: pd.DataFrame) -> pd.DataFrame:
    """The joint stage's table: the in-site out-of-fold rows and a few test studies shipped."""
    test = _cohort(20, 0.5, 9, first=9000).assign(variant="chosen", split="test")
    test["predicted"] = test[["p_normal_mild", "p_moderate", "p_severe"]].to_numpy().argmax(1)
    return pd.concat([in_site.assign(variant=OUT_OF_FOLD, split="validation"), test])


@pytest.mark.parametrize("shares_there", [True, False])
def test_a_stacker_that_stacks_a_new_site_worse_than_its_graders_is_not_kept(shares_there):
    in_site = _cohort(300, 0.5, 0)
    site = _cohort(150, 0.5 if shares_there else 0.0, 3, first=5000).assign(fold_site="C")
    _, figures, _ = stack_studies({"stacker": STACKER}, {}, {}, _scored(in_site), site)
    for name, family in figures["stacker"]["families"].items():
        sites = family["left_out_sites"]
        assert sites["sites"] == ["C"] and sites["n_studies"] == 150, name
        assert family["out_of_fold"]["share_won"] >= 0.9, name  # kept in-site either way
        assert (sites["gain"] > 0) == shares_there, (name, sites["gain"])
        assert family["kept"] == shares_there and family["site_veto"] == (not shares_there)


def test_the_stacker_judged_on_a_site_is_fitted_without_its_studies():
    in_site = _cohort(300, 0.5, 0)
    site = _cohort(150, 0.0, 3, first=5000).assign(fold_site="C")
    # the site's own studies among the out-of-fold rows (a study-fold model graded them too)
    leaked = pd.concat([in_site, site.drop(columns="fold_site")], ignore_index=True)
    apart = left_out_site_gains(in_site, site, STACKER)
    assert left_out_site_gains(leaked, site, STACKER) == apart
    assert left_out_site_gains(in_site, site.iloc[:0], STACKER) == {}


def test_without_site_folds_the_choice_stays_in_site():
    _, figures, _ = stack_studies({"stacker": STACKER}, {}, {}, _scored(_cohort(300, 0.5, 0)))
    for family in figures["stacker"]["families"].values():
        assert family["left_out_sites"] is None and not family["site_veto"] and family["kept"]
