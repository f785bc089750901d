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


SPLIT_NAMES = {
    "validation": "validation (sets the threshold)",
    "test": "in-site test",
    "external_test": "held-out site",
}


def novelty_section(joint: dict) -> Section | None:
    """How often the warning that a study is unlike the training data fires, per split."""
    own = (joint or {}).get("novelty") or {}
    by_split = own.get("by_split") or {}
    if not by_split:
        return None
    rows = [
        [SPLIT_NAMES.get(split, split), fmt(r["n_studies"], "int"), fmt(r["flagged"], "pct")]
        for split, r in by_split.items()
        if split != "train"
    ]
    text = [
        "Per study, the Mahalanobis distance of its targets' mean features (each condition's "
        "chosen grader's) from the training studies', in a few principal components, the largest "
        f"over its conditions; a study is flagged above {fmt(own.get('threshold'))}, the 95th "
        "centile of the validation studies' (`joint.novelty`). Inference marks a flagged study "
        "in `grades.csv` (`unlike_training`, `novelty`) and in its figure: a scanner unlike the "
        "training ones is where grading breaks.",
    ]
    header = ["split", "studies", "flagged unlike the training data"]
    return Section("Studies unlike the training data", text, header, rows)


def novelty_line(joint: dict) -> str:
    """One sentence for the summary: the flag rate in-site and on the held-out site."""
    by_split = ((joint or {}).get("novelty") or {}).get("by_split") or {}
    parts = [
        f"{SPLIT_NAMES[s]} {fmt(by_split[s]['flagged'], 'pct')}"
        for s in ("test", "external_test")
        if s in by_split
    ]
    return ("Studies flagged unlike the training data: " + ", ".join(parts) + ".") if parts else ""
