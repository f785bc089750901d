"""The report says where a head over a study's targets was kept: out of fold (with the
validation split's verdict beside) or on the validation split."""

from __future__ import annotations

from disc_grade.evaluation.report_heads import kept_verdict
from disc_grade.evaluation.report_joint import joint_section

FIGURES = {
    h: {"validation": {"balanced_accuracy": 0.7}, "test": {"balanced_accuracy": 0.6}}
    for h in ("joint", "shipped")
}
FOLDED = {"gain": -0.012, "share_won": 0.2, "n_studies": 204, "folds": 3}


def test_a_head_chosen_out_of_fold_says_so_and_what_the_split_said():
    joint = {
        "kept": False,
        "decided_on": "out_of_fold",
        "out_of_fold": FOLDED,
        "split_verdict": True,
        "paired": {"gain": 0.05, "share_won": 0.97},
        "figures": FIGURES,
    }
    section = joint_section({"foraminal": {"joint": joint}})
    verdict = [row[-1] for row in section.rows if row[-1]][0]
    assert verdict.startswith("no (out-of-fold log loss 0.012 above what it ships over 204")
    assert "3 folds" in verdict and "split alone said yes" in verdict
    assert "validation log loss" not in verdict


def test_a_head_chosen_on_the_split_says_validation():
    head = {
        "kept": True,
        "decided_on": "validation",
        "paired": {"gain": 0.02, "share_won": 0.95},
    }
    said = kept_verdict(head)
    assert said.startswith("yes (validation log loss 0.020 below the grader's")
    assert "out-of-fold" not in said
    assert kept_verdict({**head, "overridden": True}).endswith("(set)")


def test_a_head_the_left_out_sites_vetoed_says_so():
    sites = {"gain": -0.031, "sites": ["site_a", "site_b"], "n_studies": 80}
    head = {
        "kept": False,
        "decided_on": "out_of_fold",
        "out_of_fold": {**FOLDED, "gain": 0.02, "share_won": 0.95},
        "left_out_sites": sites,
        "site_veto": True,
    }
    said = kept_verdict(head)
    assert said.startswith("no (out-of-fold log loss 0.020 below")
    assert said.endswith(
        "; on the sites its folds left out (site_a, site_b, 80 studies) log loss 0.031 above "
        "the grader's, so not kept"
    )
    kept = kept_verdict(
        {**head, "kept": True, "site_veto": False, "left_out_sites": {**sites, "gain": 0.01}}
    )
    assert kept.endswith("log loss 0.010 below the grader's")
    adapted = {**head, "left_out_sites": {**sites, "adapted": True}}  # as inference reads
    assert kept_verdict(adapted).endswith(
        "the grader's, both with BatchNorm adapted to the site, so not kept"
    )
    assert "left out" not in kept_verdict({**head, "left_out_sites": None})
    # the joint head is judged in-site against what the condition ships, on the sites against
    # the folds' graders
    joint = kept_verdict(head, "what it ships")
    assert "0.020 below what it ships" in joint and joint.endswith(
        "above the grader's, so not kept"
    )
