"""The report's sections on a scanner the graders never saw: how often the warning that a study
is unlike the training data fires, what the leave-site-out folds said of each candidate, and what
adapting the graders' BatchNorm statistics to a site's unlabelled studies buys there."""

from __future__ import annotations

from disc_grade.conditions import SPECS
from disc_grade.evaluation.render import Section, fmt
from disc_grade.evaluation.report_limits import interval

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
        "chosen grader's) and of their crops' mean image statistics (relative noise, sharpness, "
        "histogram shape, neighbouring-slice correlation) from the training studies', each in a "
        "few principal components and over the training studies' median distance, the largest "
        f"over its conditions; a study is flagged above {fmt(own.get('threshold'))}, "
        f"{_threshold_said(own.get('rule') or {})} (`joint.novelty`). Inference marks a flagged "
        "study in `grades.csv` (`unlike_training`, `novelty`) and in its figure: a scanner unlike "
        "the training ones is where grading breaks.",
    ]
    header = ["split", "studies", "flagged unlike the training data"]
    return Section("Studies unlike the training data", text, header, rows)


def _threshold_said(rule: dict) -> str:
    """Which validation novelty the threshold is, and what it promises of in-site studies."""
    if not rule:
        return "set on the validation studies"
    said = (
        f"the validation studies' novelty ranked {rule['rank']} of {rule['n_validation']} "
        f"from the lowest: the lowest that keeps the in-site studies flagged by chance under "
        f"{fmt(rule['false_rate'], 'pct')} with {fmt(rule['confidence'], 'pct')} confidence"
    )
    if rule["confidence_reached"] < rule["confidence"]:
        said += (
            f" (too few validation studies for it: their largest reaches "
            f"{fmt(rule['confidence_reached'], 'pct')})"
        )
    return said


def novelty_line(joint: dict) -> str:
    """One sentence for the summary: the flag rate in-site and on the held-out site."""
    by_split = ((joint or {}).get("novelty") or {}).get("by_split") or {}
    parts = [
        f"{SPLIT_NAMES[s]} {fmt(by_split[s]['flagged'], 'pct')}"
        for s in ("test", "external_test")
        if s in by_split
    ]
    return ("Studies flagged unlike the training data: " + ", ".join(parts) + ".") if parts else ""


def adaptation_section(conditions: dict[str, dict]) -> Section | None:
    """Per trained condition, at the localiser's points: what inference ships, and the same grader
    with its BatchNorm statistics re-estimated on each split's crops (``chosen+adabn``), in-site
    and on the held-out site, beside the ceiling."""
    header = ["condition", "grader", "in-site test [95% CI]", "held-out site [95% CI]"]
    rows = []
    for name, results in conditions.items():
        end_to_end = results.get("end_to_end_metrics") or {}
        if "chosen+adabn" not in end_to_end:
            continue
        for variant, label in (("chosen", "as shipped"), ("chosen+adabn", "BatchNorm adapted")):
            by_split = end_to_end[variant]
            rows.append(
                [
                    SPECS[name].title,
                    label,
                    *[
                        fmt(by_split.get(s, {}).get("balanced_accuracy"), "pct")
                        + interval(by_split.get(s, {}))
                        for s in ("test", "external_test")
                    ],
                ]
            )
        ceiling = results.get("ceiling") or {}
        if ceiling.get("available"):
            rows.append(
                [
                    SPECS[name].title,
                    "Bayes ceiling",
                    fmt(ceiling.get("test"), "pct"),
                    fmt(ceiling.get("external_test"), "pct"),
                ]
            )
    if not rows:
        return None
    text = [
        "Adaptation without labels (AdaBN): the grader validation chose keeps every learnt weight "
        "and re-estimates its BatchNorm statistics on the crops of the studies it grades, here "
        "each split's alone, as inference does on a folder of a new site's studies "
        "(`inference.adapt_batchnorm`). Whether inference adapts by default is decided by the "
        "leave-site-out folds where there are some (the section before), else it does not.",
    ]
    return Section("A scanner the graders never saw: adaptation without labels", text, header, rows)


def _site_rows(name: str, chosen: dict) -> list[list[str]]:
    weighed = chosen.get("leave_site_out") or {}
    rows = []
    for variant, figures in (chosen.get("validation") or {}).items():
        folds = (weighed.get("by_variant") or {}).get(variant) or {}
        in_site = figures.get("in_site_score", figures.get("score"))
        marks = [
            mark
            for mark, key in (("in-site choice", "chosen_in_site"), ("chosen", "variant"))
            if chosen.get(key) == variant
        ]
        rows.append(
            [
                SPECS[name].title,
                variant + (f" ({', '.join(marks)})" if marks else ""),
                fmt(-in_site) if chosen.get("by") == "log_loss" else fmt(in_site, "pct"),
                fmt(folds.get("log_loss")),
                fmt(folds.get("log_loss_adapted")),
                fmt(folds.get("adapted_share_won"), "pct"),
                "yes" if folds.get("adapt_batchnorm") else ("no" if folds else "-"),
            ]
        )
    return rows


def leave_site_out_section(conditions: dict[str, dict]) -> Section | None:
    """Per trained condition and candidate: its in-site validation score, its log loss on the
    training sites its fold models never saw (as trained and with BatchNorm adapted), and how the
    choice weighed them; or that the choice was in-site only, and why."""
    rows, why = [], {}
    for name, results in conditions.items():
        chosen = results.get("chosen_grader") or {}
        weighed = chosen.get("leave_site_out") or {}
        if not chosen.get("validation"):
            continue
        if not weighed.get("used"):
            why[SPECS[name].title] = weighed.get("why", "in-site validation only")
            continue
        rows += _site_rows(name, chosen)
    if not rows and not why:
        return None
    text = [
        "Leave-site-out folds (`leave_site_out`): each of a few training sites is left out in "
        "turn, the contrastive encoder and every candidate grader are trained again on the other "
        "sites' training studies and grade the left-out site's training and validation studies, "
        "calibrated as they ship (on their own in-site validation rows); no fold sees the site it "
        "scores or any test study. The choice then weighs both: "
        "(1 - `weight`) x the in-site score - `weight` x the left-out sites' log loss, adapted "
        "where adapting its BatchNorm statistics to the left-out site won `confidence` of the "
        "study resamples, which also decides whether inference adapts by default.",
    ]
    text += [f"{condition}: {reason}." for condition, reason in why.items()]
    header = [
        "condition",
        "candidate",
        "in-site validation",
        "left-out sites log loss",
        "adapted",
        "adapting won",
        "adapt kept",
    ]
    return Section("A scanner the graders never saw: choices across sites", text, header, rows)
