"""The report's section on what each technique bought: one row per technique and condition, its
setting, what validation (out of fold where there are study folds) said of it, and whether the
run kept it. Techniques fixed in conf were measured apart, on the tuning cohort; the run cannot
compare them, and the row says so rather than guess."""

from __future__ import annotations

from disc_grade.conditions import SPECS
from disc_grade.evaluation.render import Section, fmt
from disc_grade.evaluation.report_heads import kept_verdict

FIXED = "fixed in conf; measured apart on the tuning cohort (docs/conditions.md)"


def _on(value: bool) -> str:
    return "on" if value else "off"


def _fixed_rows(name: str, settings: dict) -> list[tuple[str, str, str, str]]:
    """(technique, setting, what validation said, kept) of the techniques conf fixes."""
    if not settings:
        return []
    rows = []
    if SPECS[name].sided:
        mirror = bool(settings.get("mirror_sides"))
        rows.append(("mirrored sides (`roi.mirror_sides`)", _on(mirror), FIXED, _on(mirror)))
    return rows


def _variant_rows(chosen: dict) -> list[tuple[str, str, str, str]]:
    """The grader variant (the paper's contrastive pretraining against scratch and frozen), and
    the folds that scored it."""
    folded, site = chosen.get("out_of_fold") or {}, chosen.get("leave_site_out") or {}
    scores = "; ".join(
        f"{v} {fmt(f.get('score'))}" for v, f in (chosen.get("validation") or {}).items()
    )
    on = "out-of-fold" if folded.get("used") else "validation-split"
    split_said = (
        f"the validation split alone would choose {chosen.get('chosen_on_split')}"
        if folded.get("used")
        else folded.get("why", "")
    )
    adapt = (site.get("by_variant") or {}).get(chosen.get("variant")) or {}
    return [
        (
            "contrastive pretraining (the grader variant)",
            f"{on} {chosen.get('by', 'log_loss')}, negated where a loss",
            scores,
            str(chosen.get("variant")) + (" (set)" if chosen.get("overridden") else ""),
        ),
        ("every choice out of fold (`split.n_folds`)", _on(folded.get("used")), split_said, ""),
        (
            "leave-site-out folds (`leave_site_out.max_sites`)",
            _on(site.get("used")),
            site.get("why", ""),
            "",
        ),
        (
            "BatchNorm adapted to a new site (AdaBN)",
            "decided by the leave-site-out folds",
            (
                f"adapting won {fmt(adapt.get('adapted_share_won'), 'pct')} of study resamples"
                if adapt
                else "not measured: no leave-site-out folds"
            ),
            "yes" if chosen.get("adapt_batchnorm") else "no",
        ),
    ]


def _fold_average_row(results: dict, variant: str) -> list[tuple[str, str, str, str]]:
    """The chosen variant's fold models averaged, on test beside the grader trained on the whole
    training split (both reported; which ships is ``selection.fold_average``, set in conf)."""
    averaged = (results.get("fold_average_metrics") or {}).get(variant) or {}
    if not averaged.get("n_folds"):
        return []
    whole = (results.get("metrics") or {}).get(variant) or {}
    said = "; ".join(
        f"{where} balanced accuracy {fmt(averaged.get(split, {}).get('balanced_accuracy'))} "
        f"against {fmt(whole.get(split, {}).get('balanced_accuracy'))}, log loss "
        f"{fmt(averaged.get(split, {}).get('log_loss'))} against "
        f"{fmt(whole.get(split, {}).get('log_loss'))}"
        for split, where in (("test", "in-site"), ("external_test", "held-out site"))
        if split in averaged
    )
    ships = bool((results.get("chosen_grader") or {}).get("fold_average"))
    return [
        (
            "fold models averaged (test, against the whole-split grader)",
            f"{averaged['n_folds']} fold models of {variant}",
            said,
            (
                "yes (selection.fold_average): test and inference grade with their average"
                if ships
                else "no (selection.fold_average false): the grader trained on the whole split"
            ),
        )
    ]


def _split_said(on_split: dict, key: str) -> str:
    """What the validation split alone would choose, where the choice was out of fold."""
    return f"; the validation split alone would choose {on_split[key]}" if on_split else ""


def _sites_said(fitted: dict) -> str:
    """Each method's log loss on the sites never trained on, where it weighed in."""
    sites = fitted.get("left_out_sites") or {}
    if not sites:
        return ""
    losses = sites.get("log_loss") or {}
    return (
        f"; on left-out sites (weight {sites.get('weight')}) as trained "
        f"{fmt(losses.get('as_trained'))} -> {fitted['method']} {fmt(losses.get(fitted['method']))}"
    )


def _sites_won(fitted: dict) -> str:
    """The posterior rule's share of won resamples on the sites never trained on, where it
    weighed in (under the method kept)."""
    won = ((fitted.get("left_out_sites") or {}).get("posterior_won") or {}).get(fitted["method"])
    return "" if won is None else f"; on left-out sites {fmt(won, 'pct')}"


def _calibration_rows(fitted: dict) -> list[tuple[str, str, str, str]]:
    """The calibration method and the rule that calls a grade: out of fold where there are
    study folds (with what the validation split alone would choose), else on the split."""
    folded, on_split = fitted.get("out_of_fold") or {}, fitted.get("chosen_on_split") or {}
    losses = folded.get("log_loss") or fitted.get("cross_validated_log_loss") or {}
    where = (
        f"out of fold ({folded.get('n_studies')} studies)"
        if folded
        else "cross-validated on the validation split"
    )
    rows = []
    if fitted.get("method"):
        rows.append(
            (
                "calibration (weighted log loss)",
                "; ".join(f"{m}" for m in losses),
                f"{where}: as trained {fmt(losses.get('as_trained'))} -> "
                f"{fitted['method']} {fmt(losses.get(fitted['method']))}"
                f"{_sites_said(fitted)}{_split_said(on_split, 'method')}",
                fitted["method"],
            )
        )
    if fitted.get("decision"):
        won = folded.get("posterior_won") if folded else fitted.get("posterior_won")
        rows.append(
            (
                "grade called by the posterior rule",
                "grader or posterior",
                f"{where}: posterior won {fmt(won, 'pct')} of study resamples"
                f"{_sites_won(fitted)}{_split_said(on_split, 'decision')}",
                fitted["decision"],
            )
        )
    return rows


def _head_rows(results: dict, fitted: dict) -> list[tuple[str, str, str, str]]:
    """Calibration, the rule that calls a grade, and the heads over a study's targets."""
    rows = _calibration_rows(fitted)
    joint = results.get("joint") or {}
    if joint.get("figures"):
        rows.append(
            (
                "joint head (every condition)",
                "the chosen graders' features",
                "",
                kept_verdict(joint, "what it ships"),
            )
        )
    return rows


def techniques_section(conditions: dict[str, dict]) -> Section | None:
    """Per trained condition, a row per technique: its setting, what validation said, kept."""
    header = ["condition", "technique", "setting", "what validation said", "kept"]
    rows = []
    for name, results in conditions.items():
        chosen = results.get("chosen_grader") or {}
        if not chosen.get("variant"):
            continue
        fitted = (results.get("calibration") or {}).get(chosen["variant"]) or {}
        for row in (
            *_fixed_rows(name, results.get("techniques") or {}),
            *_variant_rows(chosen),
            *_fold_average_row(results, chosen["variant"]),
            *_head_rows(results, fitted),
        ):
            rows.append([SPECS[name].title, *row])
    if not rows:
        return None
    text = [
        "Every technique of the recipe, per condition: what it is set to, what validation said "
        "of it and whether the run kept it. Out of fold (`split.n_folds` >= 2), the grader's "
        "variant is scored on every training and validation study by fold models that never "
        "saw it, and so are the calibration method and the rule that calls a grade (then "
        "fitted on the validation split), and so is the joint head (fitted once per fold on the "
        "fold models' features); with leave-site-out folds, the sites never trained on weigh "
        "in on the variant, the calibration method and the rule, and can drop a joint head "
        "that grades them worse. Without folds every choice is "
        "made on the validation split. Techniques fixed in conf are not compared by the run.",
    ]
    return Section("What each technique bought", text, header, rows)
