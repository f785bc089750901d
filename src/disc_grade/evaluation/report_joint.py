"""The report's section on the joint head: a study's targets of every condition graded together,
against what each condition ships alone, on validation (where it is kept or not) and test."""

from __future__ import annotations

from disc_grade.conditions import SPECS
from disc_grade.evaluation.render import Section, fmt
from disc_grade.evaluation.report_limits import interval


def joint_section(conditions: dict[str, dict]) -> Section | None:
    """Per trained condition: the joint head against what the condition ships alone (its grader,
    or its study-context head), each calibrated on validation."""
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
        paired = joint.get("paired") or {}
        gain = paired.get("gain") or 0.0
        verdict = (
            f"{'yes' if joint.get('kept') else 'no'} (validation log loss "
            f"{fmt(abs(gain))} {'below' if gain > 0 else 'above'} what it ships, below in "
            f"{fmt(paired.get('share_won'), 'pct')} of study resamples)"
            + (" (set)" if joint.get("overridden") else "")
        )
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
        "ships alone in `joint.confidence` of the study bootstrap resamples.",
    ]
    return Section("Grading a level's conditions together (the joint head)", text, header, rows)
