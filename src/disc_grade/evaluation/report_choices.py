"""The report's sections on what the run chose on validation and where grading loses
information: the ladder from the ceiling to grading at the localiser's points, and every choice
with each candidate's validation score (the heads over a study's targets: ``report_heads``)."""

from __future__ import annotations

from disc_grade.conditions import SPECS
from disc_grade.evaluation.render import Section, fmt


def _ladder_rows(name: str, results: dict) -> list[tuple[str, dict]]:
    """(step, {split: balanced accuracy}) from the ceiling down to grading at found points."""
    chosen = results["chosen_grader"]["variant"]
    metrics = results["metrics"].get(chosen, {})
    probe = results.get("probe") or {}
    ceiling = results.get("ceiling") or {}
    steps = [
        (
            "Bayes ceiling (knows the latent)",
            {s: ceiling.get(s) for s in ("validation", "test")} if ceiling.get("available") else {},
        ),
        (
            "pretrained encoder: linear probe (cross-validated, train + validation)",
            {"validation": probe.get("probe_balanced_accuracy")},
        ),
        (
            "random encoder: linear probe (the same)",
            {"validation": probe.get("random_init_probe_balanced_accuracy")},
        ),
        (
            "chosen grader's features: linear probe (fitted on train)",
            (results.get("feature_probe") or {}).get("feature_probe_balanced_accuracy") or {},
        ),
        (
            "chosen grader at the labelled point and slice",
            {s: metrics.get(s, {}).get("balanced_accuracy") for s in ("validation", "test")},
        ),
    ]
    spec = SPECS[name]
    for side in spec.conditions if spec.sided else ():
        by_split = {
            s: metrics.get(s, {}).get(f"balanced_accuracy_{side}") for s in ("validation", "test")
        }
        steps.append((f"  {side.replace('_', ' ')} alone", by_split))
    joint = (results.get("joint") or {}).get("figures", {}).get("joint")
    if joint:
        by_split = {s: joint.get(s, {}).get("balanced_accuracy") for s in ("validation", "test")}
        steps.append(("joint head (every condition of the study) at the labelled points", by_split))
    shipped = (results.get("end_to_end_metrics") or {}).get("chosen", {})
    what = (
        "the condition's own grading, at the localiser's points (inference adds the joint head)"
        if (results.get("joint") or {}).get("kept")
        else "as inference grades (the choice above), at the localiser's point and slice"
    )
    if (results.get("chosen_grader") or {}).get("adapt_batchnorm"):
        what = "the chosen grader at the localiser's point and slice, before inference adapts it"
    steps.append((what, {"test": shipped.get("test", {}).get("balanced_accuracy")}))
    adapted = (results.get("end_to_end_metrics") or {}).get("chosen+adabn")
    if adapted:
        weighed = (results.get("chosen_grader") or {}).get("leave_site_out") or {}
        decided = (
            (
                "kept by the leave-site-out folds"
                if results["chosen_grader"].get("adapt_batchnorm")
                else "rejected by the leave-site-out folds"
            )
            if weighed.get("used")
            else "measured, not chosen: no leave-site-out folds"
        )
        steps.append(
            (
                f"  the same, BatchNorm adapted to the split's crops ({decided})",
                {"test": adapted.get("test", {}).get("balanced_accuracy")},
            )
        )
    return steps


def ladder_section(conditions: dict[str, dict]) -> Section | None:
    """Per trained condition, where grading loses what the data hold: each step's balanced
    accuracy on validation and test, from the ceiling to grading at the localiser's points."""
    header = ["condition", "step", "validation", "in-site test"]
    rows = []
    for name, results in conditions.items():
        if not (results.get("chosen_grader") or {}).get("variant"):
            continue
        for step, by_split in _ladder_rows(name, results):
            rows.append(
                [
                    SPECS[name].title,
                    step,
                    fmt(by_split.get("validation"), "pct"),
                    fmt(by_split.get("test"), "pct"),
                ]
            )
    if not rows:
        return None
    text = [
        "Balanced accuracy at each step from what the data hold to what inference does, for the "
        "grader validation chose. A large drop between two rows is where information is lost: "
        "below the ceiling at the features' probe, the encoder or the crop; between the probe "
        "and the grader, the head; between the labelled and the found point, the localiser. "
        "Validation crops carry the training's seeded offset, test crops are centred; the "
        "localiser trains on validation, so it is measured on test only.",
    ]
    return Section("Where grading loses information (the ladder)", text, header, rows)


def _choice_rows(results: dict) -> list[tuple[str, dict, str]]:
    """(what was chosen, {candidate: validation score}, the choice) for one condition."""
    rows = []
    for variant, fitted in (results.get("calibration") or {}).items():
        if isinstance(fitted, dict) and "cross_validated_log_loss" in fitted:
            rows.append(
                (
                    f"calibration of {variant} (cross-validated log loss, lower is better)",
                    fitted["cross_validated_log_loss"],
                    fitted["method"],
                )
            )
        if isinstance(fitted, dict) and fitted.get("cross_validated_balanced_accuracy"):
            rows.append(
                (
                    f"grade called by {variant} (cross-validated balanced accuracy; share "
                    "of study resamples the posterior wins)",
                    {
                        **fitted["cross_validated_balanced_accuracy"],
                        "posterior wins": fitted.get("posterior_won"),
                    },
                    fitted["decision"],
                )
            )
    chosen = results.get("chosen_grader") or {}
    if chosen.get("variant"):
        scores = {v: f.get("score") for v, f in chosen.get("validation", {}).items()}
        folded = (chosen.get("out_of_fold") or {}).get("used")
        where = "out-of-fold" if folded else "validation"
        rows.append(
            (
                f"grader ({where} {chosen.get('by')}; higher is better)",
                scores,
                chosen["variant"] + (" (set)" if chosen.get("overridden") else ""),
            )
        )
    return rows


def choices_section(conditions: dict[str, dict]) -> Section | None:
    """Every choice a run makes on validation, with each candidate's validation score."""
    header = ["condition", "choice", "candidates: validation score", "chosen"]
    rows = [
        [
            SPECS[name].title,
            what,
            "; ".join(f"{k} {fmt(v)}" for k, v in scores.items()),
            choice,
        ]
        for name, results in conditions.items()
        for what, scores, choice in _choice_rows(results)
    ]
    if not rows:
        return None
    text = [
        "What this run chose on the validation split, and what validation said of each "
        "candidate; test figures played no part. Log losses carry the metric's weights."
    ]
    return Section("Choices made on validation", text, header, rows)
