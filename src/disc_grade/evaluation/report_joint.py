"""The report's section on the joint head: a study's targets of every condition graded together,
against what each condition ships alone, on validation (where it is kept or not) and test."""

from __future__ import annotations

from disc_grade.conditions import SPECS
from disc_grade.evaluation.render import Section, fmt
from disc_grade.evaluation.report_heads import kept_verdict
from disc_grade.evaluation.report_limits import interval


def joint_section(conditions: dict[str, dict]) -> Section | None:
    """Per trained condition: the joint head against what the condition ships alone (its
    grader), each calibrated on validation."""
    header = [
        "condition",
        "grader",
        "validation balanced accuracy",
        "test balanced accuracy [95% CI]",
        "test log loss",
        "kept",
    ]
    rows = []
    for name, results in conditions.items():
        joint = results.get("joint") or {}
        if not joint.get("figures"):
            continue
        verdict = kept_verdict(joint, "what it ships")
        for head, label in (("shipped", "what it ships alone"), ("joint", "joint head")):
            figures = joint["figures"].get(head, {})
            val, test = figures.get("validation", {}), figures.get("test", {})
            rows.append(
                [
                    SPECS[name].title,
                    label,
                    fmt(val.get("balanced_accuracy"), "pct"),
                    fmt(test.get("balanced_accuracy"), "pct") + interval(test),
                    fmt(test.get("log_loss")),
                    verdict if head == "joint" else "",
                ]
            )
    if not rows:
        return None
    text = [
        "One head reads every target of a study at once, every condition, level and side (the "
        "chosen graders' features and logits, each tagged with its condition, level and side), "
        "through self-attention: a level's conditions share causes (a bulging disc narrows the "
        "canal and both recesses). Trained on the training split less a fifth of its studies "
        "(on which it is stopped), calibrated on validation, it grades a condition (inference "
        "included) only where its cross-validated validation log loss beats what the condition "
        "ships alone in `joint.confidence` of the study bootstrap resamples. With study folds "
        "that choice is made out of fold: the head is fitted once per fold on the fold models' "
        "features and its left-out rows, calibrated on the fold's validation rows, are compared "
        "with what the condition ships graded out of fold, over every training and validation "
        "study (each fold's head fits on two thirds of the training studies, so this judges the "
        "head a little harder than the shipped one, fitted on all of them). With leave-site-out "
        "folds it is fitted once more per fold on the other sites and not kept for a condition "
        "where it grades the left-out sites worse than the fold's grader does.",
    ]
    return Section("Grading a level's conditions together (the joint head)", text, header, rows)


SPLIT_LABELS = {"test": "in-site test", "external_test": "held-out site"}


def _stacker_rows(families: dict, test: dict) -> list[list[str]]:
    rows = []
    for name, own in families.items():
        oof = own.get("out_of_fold") or {}
        kept = "yes" if own.get("kept") else "no"
        if own.get("not_applied"):
            kept += f" ({own['not_applied']}: it learnt from the plain grader's rows)"
        elif own.get("kept") != own.get("kept_by_validation"):
            kept += " (set)"
        elif own.get("site_veto"):
            kept += " (it stacks the left-out sites worse)"
        tested = [
            f"{SPLIT_LABELS.get(split, split)} {fmt(t['shipped_log_loss'])} -> "
            f"{fmt(t['stacked_log_loss'])}"
            for split, t in (test.get(name) or {}).items()
        ]
        said = f"{fmt(oof.get('given_log_loss'))} -> {fmt(oof.get('stacked_log_loss'))}"
        if "given_any_severe" in oof:  # the canal is judged on both its terms
            said += (
                f"; any severe {fmt(oof['given_any_severe'])} -> "
                f"{fmt(oof.get('stacked_any_severe'))}"
            )
        rows.append(
            [
                name,
                f"{oof.get('n_targets', 0)} targets of {oof.get('n_studies', 0)} studies",
                said,
                fmt(oof.get("share_won"), "pct"),
                kept,
                "; ".join(tested),
                _on_sites(own.get("left_out_sites")),
            ]
        )
    return rows


def _on_sites(sites: dict | None) -> str:
    """The stacker on the sites the leave-site-out folds left out, or why not judged there."""
    if not sites:
        return "no leave-site-out folds"
    return (
        f"{fmt(sites.get('given_log_loss'))} -> {fmt(sites.get('stacked_log_loss'))}, lower "
        f"in {fmt(sites.get('share_won'), 'pct')} ({', '.join(map(str, sites.get('sites', [])))})"
    )


def stacker_section(joint: dict) -> Section | None:
    """The study stacker per family: what cross-validation on the out-of-fold predictions said
    (chosen there), whether it is kept, and the test splits' log loss with and without it
    (reported only)."""
    own = (joint or {}).get("stacker") or {}
    title = "Grading a study's targets together (the study stacker)"
    if own.get("skipped"):
        return Section(title, [f"Not fitted: {own.get('reason', 'skipped')} (`joint.stacker`)."])
    if not own.get("families"):
        return None
    header = [
        "family",
        "out-of-fold rows",
        "weighted log loss out of fold: shipped -> stacked",
        "stacked lower in",
        "kept",
        "test weighted log loss: shipped -> stacked",
        "left-out sites: shipped -> stacked",
    ]
    text = [
        "Each target's calibrated probabilities corrected by its level's other targets' (the "
        "canal, the other side, the other sided family) and its condition's other levels' "
        "(`models/grading/stacker.py`), fitted on every training and validation study's "
        "out-of-fold predictions (fold models that never saw the study) and cross-validated by "
        "study on them; kept per family where it lowers the weighted log loss in "
        f"{fmt((own.get('params') or {}).get('confidence'), 'pct')} of the study resamples "
        "(the canal: the sum of its family's term and the any-severe-spinal term, which reads "
        "each study's largest Severe probability and which a correction per target can raise). "
        "It moves probabilities (what the RSNA score reads), not the grade called; inference "
        "applies the kept families. The test figures are reported only. With leave-site-out "
        "folds it is fitted again without each left-out site and stacks what the fold's grader "
        "gives that site; a family it stacks there worse (a negative gain, the sites pooled) is "
        "not kept.",
    ]
    return Section(title, text, header, _stacker_rows(own["families"], own.get("test") or {}))
