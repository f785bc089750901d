"""The report's sections on how close the graders come to what the data allow.

Per condition the grader validation chose, its calibration (log loss and calibration error on
test, before and after), beside the Bayes ceiling and the log loss's floor; then the RSNA score
over all 25 targets of each test split beside the prior, the best constant and the floor.
"""

from __future__ import annotations

from disc_grade.evaluation.render import Section, fmt

SPLIT_NAMES = {"test": "in-site test", "external_test": "held-out-site test"}
BASELINES = {
    "chosen": "chosen per condition (validation)",
    "prior": "prior (training frequencies)",
    "weighted_prior": "best constant (frequencies x weights 1/2/4)",
    "floor": "floor (knows the latent)",
}
SCORE_KEYS = ("spinal_log_loss", "foraminal_log_loss", "subarticular_log_loss",
              "any_severe_spinal_log_loss", "rsna_score")  # fmt: skip


def _interval(m: dict) -> str:
    low, high = m.get("balanced_accuracy_ci_low"), m.get("balanced_accuracy_ci_high")
    return f" [{fmt(low, 'pct')}, {fmt(high, 'pct')}]" if low is not None else ""


def _change(m: dict, key: str) -> str:
    before = m.get(f"{key}_uncalibrated")
    return f"{fmt(before)} -> {fmt(m.get(key))}" if before is not None else fmt(m.get(key))


def limits_section(conditions: dict[str, dict], titles: dict[str, str]) -> Section | None:
    """Per trained condition: the Bayes ceiling, the chosen grader, its balanced accuracy and
    severe-to-normal rate, its log loss before and after calibration against the floor."""
    header = ["condition", "grader (validation's choice)", "split", "Bayes ceiling",
              "balanced accuracy [95% CI]", "severe-to-normal (count)",
              "log loss: before -> after calibration", "floor", "ECE: before -> after"]  # fmt: skip
    rows = []
    for name, results in conditions.items():
        chosen = (results.get("chosen_grader") or {}).get("variant")
        if not chosen:
            continue
        ceiling = results.get("ceiling") or {}
        floors = ceiling.get("log_loss_floor") or {}
        label = chosen + (
            " (set by selection.variant)" if results["chosen_grader"].get("overridden") else ""
        )
        context = results.get("context_metrics") or {}
        figures = results["metrics"].get(chosen, {})
        if context.get("kept"):  # the study-context head grades in its place
            figures, label = context["figures"]["context"], label + " + study context"
        for split, split_name in SPLIT_NAMES.items():
            m = figures.get(split)
            if not m:
                continue
            rows.append([titles.get(name, name), label, split_name, fmt(ceiling.get(split), "pct"),
                         fmt(m.get("balanced_accuracy"), "pct") + _interval(m),
                         f"{fmt(m.get('severe_to_normal_rate'), 'pct2')} ({m.get('severe_to_normal_count', 0)})",
                         _change(m, "log_loss"), fmt(floors.get(split)),
                         _change(m, "expected_calibration_error")])  # fmt: skip
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


HEAD_NAMES = {"grader": "chosen grader (per target)", "per_target": "per-target head",
              "context": "study-context head"}  # fmt: skip


def _kept(context: dict) -> str:
    """``yes``/``no`` and, where compared, the paired figures against the grader."""
    paired, text = context.get("paired") or {}, "yes" if context.get("kept") else "no"
    if paired.get("share_won") is not None:
        gain = paired.get("gain") or 0.0
        text += (f" (validation log loss {fmt(abs(gain))} {'below' if gain > 0 else 'above'} "
                 f"the grader's, below in {fmt(paired.get('share_won'), 'pct')} of resamples)")  # fmt: skip
    return text + (" (set)" if context.get("overridden") else "")


def context_section(conditions: dict[str, dict], titles: dict[str, str]) -> Section | None:
    """Per trained condition: the chosen grader, a per-target head and the study-context head on
    the same features, on validation (where the choice is made) and test."""
    header = ["condition", "grader", "validation score", "validation balanced accuracy",
              "test balanced accuracy [95% CI]", "test log loss", "kept"]  # fmt: skip
    rows = []
    for name, results in conditions.items():
        context = results.get("context_metrics") or {}
        if not context.get("figures"):
            continue
        for head, figures in context["figures"].items():
            val, test = figures.get("validation", {}), figures.get("test", {})
            rows.append([titles.get(name, name), HEAD_NAMES.get(head, head),
                         fmt(context["validation_score"].get(head)),
                         fmt(val.get("balanced_accuracy"), "pct"),
                         fmt(test.get("balanced_accuracy"), "pct") + _interval(test),
                         fmt(test.get("log_loss")), _kept(context) if head == "context" else ""])  # fmt: skip
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
        "bootstrap resamples of validation (paired, each cross-validated by study).",
    ]
    return Section("Grading a study's targets together", text, header, rows)


def _ladder_rows(results: dict) -> list[tuple[str, dict]]:
    """(step, {split: balanced accuracy}) from the ceiling down to grading at found points."""
    chosen = results["chosen_grader"]["variant"]
    metrics = results["metrics"].get(chosen, {})
    context = results.get("context_metrics") or {}
    probe = results.get("probe") or {}
    ceiling = results.get("ceiling") or {}
    steps = [("Bayes ceiling (knows the latent)",
              {s: ceiling.get(s) for s in ("validation", "test")} if ceiling.get("available") else {}),
             ("pretrained encoder: linear probe (cross-validated, train + validation)",
              {"validation": probe.get("probe_balanced_accuracy")}),
             ("random encoder: linear probe (the same)",
              {"validation": probe.get("random_init_probe_balanced_accuracy")}),
             ("chosen grader's features: linear probe (fitted on train)",
              context.get("feature_probe_balanced_accuracy") or {}),
             ("chosen grader at the labelled point and slice",
              {s: metrics.get(s, {}).get("balanced_accuracy") for s in ("validation", "test")})]  # fmt: skip
    sides = sorted(k[len("balanced_accuracy_"):] for k in metrics.get("test", {})
                   if k.endswith(("_narrowing", "_stenosis")) and k.startswith("balanced_accuracy_"))  # fmt: skip
    for side in sides:
        steps.append((f"  {side.replace('_', ' ')} alone",
                      {s: metrics.get(s, {}).get(f"balanced_accuracy_{side}")
                       for s in ("validation", "test")}))  # fmt: skip
    found = (results.get("end_to_end_metrics") or {}).get(chosen, {})
    steps.append(("chosen grader at the localiser's point and slice",
                  {"test": found.get("test", {}).get("balanced_accuracy")}))  # fmt: skip
    heads = context.get("figures", {})
    if "context" in heads:
        steps.append(("study-context head at the labelled point",
                      {s: heads["context"].get(s, {}).get("balanced_accuracy")
                       for s in ("validation", "test")}))  # fmt: skip
    return steps


def ladder_section(conditions: dict[str, dict], titles: dict[str, str]) -> Section | None:
    """Per trained condition, where grading loses what the data hold: each step's balanced
    accuracy on validation and test, from the ceiling to grading at the localiser's points."""
    header = ["condition", "step", "validation", "in-site test"]
    rows = []
    for name, results in conditions.items():
        if not (results.get("chosen_grader") or {}).get("variant"):
            continue
        for step, by_split in _ladder_rows(results):
            rows.append([titles.get(name, name), step, fmt(by_split.get("validation"), "pct"),
                         fmt(by_split.get("test"), "pct")])  # fmt: skip
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
            rows.append((f"calibration of {variant} (cross-validated log loss, lower is better)",
                         fitted["cross_validated_log_loss"], fitted["method"]))  # fmt: skip
        if isinstance(fitted, dict) and fitted.get("cross_validated_balanced_accuracy"):
            rows.append((f"grade called by {variant} (cross-validated balanced accuracy; share "
                         "of study resamples the posterior wins)",
                         {**fitted["cross_validated_balanced_accuracy"],
                          "posterior wins": fitted.get("posterior_won")}, fitted["decision"]))  # fmt: skip
    chosen = results.get("chosen_grader") or {}
    if chosen.get("variant"):
        scores = {v: f.get("score") for v, f in chosen.get("validation", {}).items()}
        rows.append((f"grader (validation {chosen.get('by')}; higher is better)", scores,
                     chosen["variant"] + (" (set)" if chosen.get("overridden") else "")))  # fmt: skip
    context = results.get("context_metrics") or {}
    if context.get("validation_score"):
        rows.append(("study context (the same score)", context["validation_score"],
                     "context head" if context.get("kept") else "per-target grader"))  # fmt: skip
    return rows


def choices_section(conditions: dict[str, dict], titles: dict[str, str]) -> Section | None:
    """Every choice a run makes on validation, with each candidate's validation score."""
    header = ["condition", "choice", "candidates: validation score", "chosen"]
    rows = [[titles.get(name, name), what,
             "; ".join(f"{k} {fmt(v)}" for k, v in scores.items()), choice]
            for name, results in conditions.items()
            for what, scores, choice in _choice_rows(results)]  # fmt: skip
    if not rows:
        return None
    text = ["What this run chose on the validation split, and what validation said of each "
            "candidate; test figures played no part. Log losses carry the metric's weights."]  # fmt: skip
    return Section("Choices made on validation", text, header, rows)


def _score_rows(scores: dict) -> list[list[str]]:
    rows = []
    for name, s in scores.items():
        if name == "floor" and not s.get("available", True):
            rows.append([BASELINES["floor"], *[""] * (len(SCORE_KEYS) - 1), s.get("reason", "")])
            continue
        rows.append([BASELINES.get(name, name), *(fmt(s.get(k)) for k in SCORE_KEYS)])
    return rows


def rsna_section(score: dict) -> list[Section]:
    """Per test split, the competition score over all 25 targets: every variant, the graders
    validation chose, and the baselines and the floor."""
    header = ["grader", "spinal", "foraminal", "subarticular", "any severe spinal", "RSNA score"]
    parts = []
    for split, scores in score.items():
        first = scores.get("chosen") or next(iter(scores.values()), {})
        skipped = ", ".join(
            f"{family} {n}" for family, n in (first.get("n_at_prior_by_condition") or {}).items() if n
        )  # fmt: skip
        text = [
            f"The competition's metric over all 25 targets of the {SPLIT_NAMES.get(split, split)} "
            "studies (lower is better): a log loss per condition with sample weights 1/2/4, the "
            "any-severe-spinal term, and their mean. Each variant grades every condition with its "
            "own fine-tuned model; 'chosen' grades each with the variant validation chose for it "
            "(and its study-context head where validation kept it).",
            f"{fmt(first.get('n_studies'), 'int')} studies, "
            f"{fmt(first.get('n_scored_targets'), 'int')} scored targets, "
            f"{fmt(first.get('n_at_prior'), 'int')} of them at the best constant because they "
            f"could not be graded{': ' + skipped if skipped else ''}.",
        ]
        title = f"RSNA score over all five conditions ({SPLIT_NAMES.get(split, split)})"
        parts.append(Section(title, text, header, _score_rows(scores)))
    return parts
