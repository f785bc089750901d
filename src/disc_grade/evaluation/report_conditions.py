"""A condition's sections of the report: its variants side by side on the in-site and held-out
test studies beside chance and the ceiling, its encoder probe, localiser and calibration, its
figures, and every figure of every variant."""

from __future__ import annotations

from disc_grade.conditions import SPECS
from disc_grade.evaluation.render import Section, fmt
from disc_grade.evaluation.report_summary import CHANCE

# the captions of a condition's report figures (``bundle.REPORT_FIGURES``)
FIGURES = (
    ("roi_gallery", "Regions of interest by grade (training split)"),
    ("confusion", "Confusion matrices (test)"),
    ("reliability", "Reliability diagram (test)"),
    ("per_level", "Balanced accuracy per level (test)"),
    ("worst_errors", "Truly Severe targets with the lowest P(Severe), Grad-CAM overlaid"),
    ("finetuning_curves", "Fine-tuning curves"),
    ("pretraining_curves", "Contrastive pretraining and what the frozen features know"),
)
DETAIL = (
    ("balanced_accuracy", "balanced accuracy", "pct"),
    ("macro_f1", "macro F1", "num"),
    ("quadratic_weighted_kappa", "quadratic weighted kappa", "num"),
    ("recall_normal_mild", "recall Normal/Mild", "pct"),
    ("recall_moderate", "recall Moderate", "pct"),
    ("recall_severe", "recall Severe", "pct"),
    ("precision_severe", "precision Severe", "pct"),
    ("severe_to_normal_rate", "severe-to-normal rate", "pct2"),
    ("balanced_accuracy_uncalibrated", "balanced accuracy, before calibration (argmax)", "pct"),
    ("log_loss", "log loss (sample weights 1/2/4)", "num"),
    ("log_loss_uncalibrated", "log loss, before calibration", "num"),
    ("any_severe_spinal_log_loss", "any-severe-spinal log loss", "num"),
    ("expected_calibration_error", "expected calibration error", "num"),
    (
        "expected_calibration_error_uncalibrated",
        "expected calibration error, before calibration",
        "num",
    ),
    ("n_discs", "targets", "int"),
    ("n_studies", "studies", "int"),
)


def _ci(m: dict, key: str) -> str:
    low, high = m.get(f"{key}_ci_low"), m.get(f"{key}_ci_high")
    if low is None or high is None:
        return ""
    kind = "pct2" if key == "severe_to_normal_rate" else "pct"
    return f" [{fmt(low, kind)}, {fmt(high, kind)}]"


def ba(m: dict, key: str = "balanced_accuracy") -> str:
    return fmt(m.get(key), "pct") + _ci(m, key)


def s2n(m: dict) -> str:
    rate = fmt(m.get("severe_to_normal_rate"), "pct2")
    return f"{rate} ({m.get('severe_to_normal_count', 0)})" + _ci(m, "severe_to_normal_rate")


def variants(metrics: dict) -> dict:
    return {k: v for k, v in metrics.items() if isinstance(v, dict)}


def _table(name: str, results: dict) -> tuple[list[str], list[list[str]]]:
    spec = SPECS[name]
    sides = list(spec.conditions) if spec.sided else []
    header = [
        "variant",
        "in-site test [95% CI]",
        "held-out site",
        "severe-to-normal (count)",
        "log loss (1/2/4)",
        "at the localiser's points",
        "head RMSE (mm)",
        *[f"{c.split('_')[0]} side" for c in sides],
    ]
    end_to_end = results.get("end_to_end_metrics") or {}
    chosen = (results.get("chosen_grader") or {}).get("variant")
    rows = []
    for variant, by_split in variants(results["metrics"]).items():
        test = by_split.get("test", {})
        rows.append(
            [
                variant + (" (chosen)" if variant == chosen else ""),
                ba(test),
                fmt(by_split.get("external_test", {}).get("balanced_accuracy"), "pct"),
                s2n(test),
                fmt(test.get("log_loss")),
                fmt(end_to_end.get(variant, {}).get("test", {}).get("balanced_accuracy"), "pct"),
                fmt(test.get("loc_rmse_mm")),
                *[ba(test, f"balanced_accuracy_{c}") for c in sides],
            ]
        )
    pad = [""] * len(sides)
    first = next(iter(variants(results["metrics"]).values()), {}).get("test", {})
    centre = fmt(first.get("loc_rmse_mm_centre"))
    rows.append(
        [
            "any constant grader",
            fmt(CHANCE, "pct"),
            fmt(CHANCE, "pct"),
            "",
            "",
            "",
            f"{centre} (the centre)",
            *pad,
        ]
    )
    ceiling = results.get("ceiling") or {}
    if ceiling.get("available"):
        floor = fmt((ceiling.get("log_loss_floor") or {}).get("test"))
        rows.append(
            [
                "Bayes ceiling and floor (knows the latent)",
                fmt(ceiling.get("test"), "pct"),
                fmt(ceiling.get("external_test"), "pct"),
                "",
                floor,
                "",
                "",
                *pad,
            ]
        )
    return header, rows


def _probe_text(probe: dict) -> str:
    if not probe or probe.get("skipped"):
        return ""
    verdict = "FAILED: at chance." if probe.get("failed") else ""
    text = (
        f"Frozen pretrained features: linear probe {fmt(probe.get('probe_balanced_accuracy'), 'pct')}"
        f", kNN {fmt(probe.get('knn_balanced_accuracy'), 'pct')}, against a randomly initialised "
        f"encoder's {fmt(probe.get('random_init_probe_balanced_accuracy'), 'pct')} and "
        f"{fmt(probe.get('random_init_knn_balanced_accuracy'), 'pct')} (cross-validated by study "
        f"over the training and validation targets). {verdict}"
    )
    if "compromise_r2" in probe:
        text += (
            f" Visible compromise R^2: {fmt(probe['compromise_r2'])} against "
            f"{fmt(probe.get('random_init_compromise_r2'))}."
        )
    broken = probe.get("augment_violations") or {}
    if broken:
        text += " The augmentation audit flagged " + ", ".join(broken) + "."
    return text.strip()


def _localiser_text(localiser: dict) -> str:
    test = (localiser or {}).get("test")
    if not isinstance(test, dict):
        return ""
    within = next((k for k in test if k.startswith("within_")), None)
    return (
        f"Its localiser, on the in-site test studies: {test.get('n_found')} of "
        f"{test.get('n_targets')} targets found, median error {fmt(test.get('median_error_mm'))} mm "
        f"in patient space, {fmt(test.get(within), 'pct')} within "
        f"{within.removeprefix('within_') if within else '?'}, "
        f"{fmt(test.get('same_slice'), 'pct')} on the reader's slice, "
        f"{fmt(test.get('level_correct'), 'pct')} at the right level." + _levels_text(localiser)
    )


def _levels_text(localiser: dict) -> str:
    """The levels decoded together against each at its own peak, on both test splits."""
    parts = []
    for split, name in (("test", "in-site test"), ("external_test", "held-out site")):
        m = (localiser or {}).get(split) or {}
        if m.get("level_correct_alone") is None:
            continue
        pairs = (
            f", adjacent levels closer than half the disc spacing {m['close_pairs_alone']} -> "
            f"{m['close_pairs']}"
            if "close_pairs" in m
            else ""
        )
        parts.append(
            f"{name}: at the right level {fmt(m['level_correct_alone'], 'pct')} with each level at "
            f"its own peak -> {fmt(m.get('level_correct'), 'pct')} decoded together{pairs}; "
            f"{m.get('level_uncertain', 0)} targets marked level in doubt"
        )
    return (" Levels (" + "; ".join(parts) + ").") if parts else ""


def _calibration_text(calibration: dict, chosen: dict | None) -> str:
    fitted = {v: c for v, c in calibration.items() if isinstance(c, dict) and "method" in c}
    if not fitted:
        return ""
    parts = [f"{v} {c['method']} (T {fmt(c['temperature'], 'num')})" for v, c in fitted.items()]
    text = (
        "Calibration, fitted on validation and chosen there by a cross-validated log loss: "
        + "; ".join(parts)
        + ". Probabilities are the calibrated posterior weighed by 1/2/4 "
        "(the metric's optimum); the grade is the largest posterior over the training "
        "frequency (the ceiling's rule)."
    )
    if chosen and chosen.get("variant"):
        how = (
            "set by selection.variant"
            if chosen.get("overridden")
            else f"validation {chosen.get('by')}"
        )
        text += f" Inference grades with {chosen['variant']} ({how})."
    return text


def condition_sections(name: str, results: dict) -> list[Section]:
    """A condition's section (or why it was skipped), and its detail table."""
    title, status = SPECS[name].title, results.get("status") or {}
    if status and not status.get("trained", True):
        text = (
            f"Not trained: {status.get('reason', 'no usable training target')}. Its "
            f"{fmt(status.get('label_cells'), 'int')} label cells are listed in "
            f"`{name}/alignment_exclusions.csv`; the RSNA score gives its targets the training "
            "prior, and inference flags them."
        )
        return [Section(f"{title}: skipped", [text])]
    header, rows = _table(name, results)
    by_variant = variants(results["metrics"])
    test = next(iter(by_variant.values()), {}).get("test", {})
    text = [
        f"Graded on {SPECS[name].read_on}. In-site test: {fmt(test.get('n_discs'), 'int')} "
        f"targets of {fmt(test.get('n_studies'), 'int')} studies. Intervals: 95% bootstrap by "
        "study. 'At the localiser's points': the same held-out targets cropped where the "
        "localiser (no label) puts them; the localisation head's error is measured on those crops.",
        _probe_text(results.get("probe") or {}),
        _localiser_text(results.get("localiser_metrics") or {}),
    ]
    ceiling = results.get("ceiling") or {}
    if ceiling.get("available"):
        text.append(f"Bayes ceiling over the whole cohort: {fmt(ceiling.get('cohort'), 'pct')}.")
    text.append(_calibration_text(results.get("calibration") or {}, results.get("chosen_grader")))
    figures = [(f"{name}/{figure}", caption) for figure, caption in FIGURES]
    detail_rows = [
        [label, *(fmt(by_split.get("test", {}).get(key), kind) for by_split in by_variant.values())]
        for key, label, kind in DETAIL
    ]
    return [
        Section(title, [t for t in text if t], header, rows, figures),
        Section(f"{title}: all figures (in-site test)", [], ["metric", *by_variant], detail_rows),
    ]
