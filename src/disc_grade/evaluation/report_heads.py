"""The report's verdicts on the heads over a study's targets (the study-context head, the joint
head): where each was kept and on what (out of fold or the validation split), and the
study-context head against the grader."""

from __future__ import annotations

from disc_grade.conditions import SPECS
from disc_grade.evaluation.render import Section, fmt
from disc_grade.evaluation.report_limits import interval

HEAD_NAMES = {
    "grader": "chosen grader (per target)",
    "per_target": "per-target head",
    "context": "study-context head",
}


def kept_verdict(head: dict, against: str = "the grader's") -> str:
    """``yes``/``no`` for a head (context or joint) and the paired figures it was kept on:
    out of fold where its choice was made there (with the validation split's verdict beside),
    else on the validation split; then what the leave-site-out folds said, where there are
    some."""
    return _in_site_verdict(head, against) + _site_verdict(head)


def _site_verdict(head: dict) -> str:
    """What the leave-site-out folds said: the head against each fold's grader (calibrated as
    the grader ships) on the site the fold left out, whatever the condition ships in-site."""
    sites = head.get("left_out_sites") or {}
    if not sites:
        return ""
    gain = sites.get("gain") or 0.0
    return (
        f"; on the sites its folds left out ({', '.join(map(str, sites.get('sites', [])))}, "
        f"{sites.get('n_studies')} studies) log loss {fmt(abs(gain))} "
        f"{'below' if gain >= 0 else 'above'} the grader's"
        + (", both with BatchNorm adapted to the site" if sites.get("adapted") else "")
        + (", so not kept" if head.get("site_veto") else "")
    )


def _in_site_verdict(head: dict, against: str) -> str:
    text = "yes" if head.get("kept") else "no"
    folded = head.get("out_of_fold") or {}
    if head.get("decided_on") == "out_of_fold" and folded:
        gain = folded.get("gain") or 0.0
        text += (
            f" (out-of-fold log loss {fmt(abs(gain))} {'below' if gain > 0 else 'above'} "
            f"{against} over {folded.get('n_studies')} studies, {folded.get('folds')} folds, "
            f"below in {fmt(folded.get('share_won'), 'pct')} of resamples; the validation "
            f"split alone said {'yes' if head.get('split_verdict') else 'no'})"
        )
        return text + (" (set)" if head.get("overridden") else "")
    paired = head.get("paired") or {}
    if paired.get("share_won") is not None:
        gain = paired.get("gain") or 0.0
        text += (
            f" (validation log loss {fmt(abs(gain))} {'below' if gain > 0 else 'above'} "
            f"{against}, below in {fmt(paired.get('share_won'), 'pct')} of resamples)"
        )
    return text + (" (set)" if head.get("overridden") else "")


def context_section(conditions: dict[str, dict]) -> Section | None:
    """Per trained condition: the chosen grader, a per-target head and the study-context head on
    the same features, on validation (where the choice is made) and test."""
    header = [
        "condition",
        "grader",
        "validation score",
        "validation balanced accuracy",
        "test balanced accuracy [95% CI]",
        "test log loss",
        "kept",
    ]
    rows = []
    for name, results in conditions.items():
        context = results.get("context_metrics") or {}
        if not context.get("figures"):
            continue
        for head, figures in context["figures"].items():
            val, test = figures.get("validation", {}), figures.get("test", {})
            rows.append(
                [
                    SPECS[name].title,
                    HEAD_NAMES.get(head, head),
                    fmt(context["validation_score"].get(head)),
                    fmt(val.get("balanced_accuracy"), "pct"),
                    fmt(test.get("balanced_accuracy"), "pct") + interval(test),
                    fmt(test.get("log_loss")),
                    kept_verdict(context) if head == "context" else "",
                ]
            )
    if not rows:
        return None
    text = [
        "A head that grades a study's targets together (self-attention over its levels and "
        "sides) against a per-target head of the same width, both on the chosen grader's "
        "features and logits, trained on the training split less a fifth of its studies (on "
        "which they are stopped) and calibrated on validation. The validation score is the "
        "selection's criterion (`selection.by`: the negated cross-validated log loss, or "
        "balanced accuracy); the context head grades (inference included) only where it scores "
        "above both and, by log loss, beats the grader in `context.confidence` of the study "
        "bootstrap resamples of validation (paired, each cross-validated by study). With study "
        "folds the head is instead fitted once per fold on the fold models' features and kept "
        "where its left-out rows beat the grader's out-of-fold rows in as many resamples of "
        "every training and validation study; the split's verdict is shown beside. With "
        "leave-site-out folds it is fitted once more per fold on the other sites and not kept "
        "where it grades the left-out sites worse than the fold's grader does.",
    ]
    return Section("Grading a study's targets together", text, header, rows)
