"""The report's sections on how close the graders come to what the data allow.

Per condition the grader validation chose, its calibration (log loss and calibration error on
test, before and after), beside the Bayes ceiling and the log loss's floor; then the RSNA score
over all 25 targets of each test split beside the prior, the best constant and the floor.
"""

from __future__ import annotations

from disc_grade.conditions import CONDITION_NAMES, SPECS
from disc_grade.evaluation.render import Section, fmt
from disc_grade.evaluation.report_summary import by_split, shipped

SPLIT_NAMES = {"test": "in-site test", "external_test": "held-out-site test"}
BASELINES = {
    "chosen": "as inference grades (each condition's choice on validation)",
    "prior": "prior (training frequencies)",
    "weighted_prior": "best constant (frequencies x weights 1/2/4)",
    "floor": "floor (knows the latent)",
}
# the score's terms: a log loss per condition family (each a spec of ours), the any-severe term
SCORE_KEYS = (
    *(f"{name}_log_loss" for name in CONDITION_NAMES),
    "any_severe_spinal_log_loss",
    "rsna_score",
)


def interval(m: dict) -> str:
    low, high = m.get("balanced_accuracy_ci_low"), m.get("balanced_accuracy_ci_high")
    return f" [{fmt(low, 'pct')}, {fmt(high, 'pct')}]" if low is not None else ""


def _change(m: dict, key: str) -> str:
    before = m.get(f"{key}_uncalibrated")
    return f"{fmt(before)} -> {fmt(m.get(key))}" if before is not None else fmt(m.get(key))


def limits_section(conditions: dict[str, dict]) -> Section | None:
    """Per trained condition: the Bayes ceiling, the chosen grader, its balanced accuracy and
    severe-to-normal rate, its log loss before and after calibration against the floor."""
    header = [
        "condition",
        "grader (validation's choice)",
        "split",
        "Bayes ceiling",
        "balanced accuracy [95% CI]",
        "severe-to-normal (count)",
        "log loss: before -> after calibration",
        "floor",
        "ECE: before -> after",
    ]
    rows = []
    for name, results in conditions.items():
        chosen = (results.get("chosen_grader") or {}).get("variant")
        if not chosen:
            continue
        ceiling = results.get("ceiling") or {}
        floors = ceiling.get("log_loss_floor") or {}
        label, figures = shipped(results)  # the joint head where kept
        if results["chosen_grader"].get("overridden"):
            label += " (set by selection.variant)"
        for split, split_name, m in by_split(figures, SPLIT_NAMES):
            rows.append(
                [
                    SPECS[name].title,
                    label,
                    split_name,
                    fmt(ceiling.get(split), "pct"),
                    fmt(m.get("balanced_accuracy"), "pct") + interval(m),
                    f"{fmt(m.get('severe_to_normal_rate'), 'pct2')} ({m.get('severe_to_normal_count', 0)})",
                    _change(m, "log_loss"),
                    fmt(floors.get(split)),
                    _change(m, "expected_calibration_error"),
                ]
            )
    if not rows:
        return None
    text = [
        "Each condition's grader is the variant validation chose (`<condition>/chosen_grader.json`"
        "; `selection` in its block), calibrated on validation (`<condition>/calibration.json`): "
        "the Bayes ceiling is the best balanced accuracy any grader could reach, the floor the "
        "lowest log loss (sample weights 1/2/4) of a grader that knows each target's latent. Both "
        "need the latent, so real data leaves them blank. Log loss and expected calibration error "
        "are on the same test targets before and after calibration.",
    ]
    return Section("How close to the data's limit", text, header, rows)


def _score_rows(scores: dict) -> list[list[str]]:
    rows = []
    for name in sorted(scores, key=lambda k: k != "chosen"):  # what inference ships first
        s = scores[name]
        if name == "floor" and not s.get("available", True):
            rows.append([BASELINES["floor"], *[""] * (len(SCORE_KEYS) - 1), s.get("reason", "")])
            continue
        rows.append([BASELINES.get(name, name), *(fmt(s.get(k)) for k in SCORE_KEYS)])
    return rows


def rsna_section(score: dict) -> list[Section]:
    """Per test split, the competition score over all 25 targets: every variant, the graders
    validation chose, and the baselines and the floor."""
    header = [
        "grader",
        *(SPECS[name].short for name in CONDITION_NAMES),
        "any severe (canal)",
        "RSNA score",
    ]
    parts = []
    for split, scores in score.items():
        first = scores.get("chosen") or next(iter(scores.values()), {})
        skipped = ", ".join(
            f"{family} {n}"
            for family, n in (first.get("n_at_prior_by_condition") or {}).items()
            if n
        )
        text = [
            f"The competition's metric over all 25 targets of the {SPLIT_NAMES.get(split, split)} "
            "studies (lower is better): a log loss per condition with sample weights 1/2/4, the "
            "any-severe-spinal term, and their mean. Each variant grades every condition with its "
            "own fine-tuned model; the first row grades each as inference does: with the variant "
            "validation chose for it (its fold models averaged where they ship).",
            f"{fmt(first.get('n_studies'), 'int')} studies, "
            f"{fmt(first.get('n_scored_targets'), 'int')} scored targets, "
            f"{fmt(first.get('n_at_prior'), 'int')} of them at the best constant because they "
            f"could not be graded{': ' + skipped if skipped else ''}.",
        ]
        title = f"RSNA score over all five conditions ({SPLIT_NAMES.get(split, split)})"
        parts.append(Section(title, text, header, _score_rows(scores)))
    return parts
