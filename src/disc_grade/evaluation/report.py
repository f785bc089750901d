"""The evaluation report: one list of sections, rendered as Markdown and as HTML (figures embedded).

Every measured figure stands beside what a trivial grader scores (chance: a balanced accuracy of
1/3 for always answering one class) and, where the data's latent is known (the phantom), beside
the Bayes ceiling no grader can pass.
"""

from __future__ import annotations

from disc_grade.evaluation.render import Section, fmt

PAPER = {"balanced_accuracy": 0.781, "severe_to_normal_rate": 0.0213, "loc_rmse_px": 10.18}
CHANCE_BALANCED_ACCURACY = 1 / 3  # any constant grader (the majority class, the prior's argmax)
FIGURES = (
    ("confusion_matrices", "Confusion matrices (test)"),
    ("per_level_accuracy", "Balanced accuracy per level (test)"),
    ("reliability_diagram", "Reliability diagram (test)"),
    (
        "worst_errors",
        "Worst errors: truly Severe discs with the lowest P(Severe), Grad-CAM overlaid",
    ),
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
    ("spinal_log_loss", "RSNA spinal log loss (weights 1/2/4)", "num"),
    ("any_severe_log_loss", "RSNA any-severe-spinal log loss", "num"),
    ("rsna_spinal_score", "RSNA spinal score (mean of the two)", "num"),
    ("expected_calibration_error", "expected calibration error", "num"),
    ("loc_rmse_px", "localisation RMSE (ROI px)", "num"),
    ("loc_rmse_px_centre", "localisation RMSE of 'the centre' (ROI px)", "num"),
    ("loc_rmse_mm", "localisation RMSE (mm)", "num"),
    ("n_discs", "discs", "int"),
    ("n_studies", "studies", "int"),
)
SPLIT_NAMES = {"test": "in-site test", "external_test": "held-out-site test"}


def _ci(m: dict, key: str) -> str:
    low, high = m.get(f"{key}_ci_low"), m.get(f"{key}_ci_high")
    if low is None or high is None:
        return ""
    kind = "pct2" if key == "severe_to_normal_rate" else "pct"
    return f" [{fmt(low, kind)}, {fmt(high, kind)}]"


def _ba(m: dict) -> str:
    return fmt(m.get("balanced_accuracy"), "pct") + _ci(m, "balanced_accuracy")


def _s2n(m: dict) -> str:
    rate = fmt(m.get("severe_to_normal_rate"), "pct2")
    return f"{rate} ({m.get('severe_to_normal_count', 0)})" + _ci(m, "severe_to_normal_rate")


def _baseline_rows(ceiling: dict, split: str, columns: int) -> list[list[str]]:
    pad = ["" for _ in range(columns - 2)]
    rows = [["chance: any constant grader", fmt(CHANCE_BALANCED_ACCURACY, "pct"), *pad]]
    if ceiling.get("available"):
        rows.append(["Bayes ceiling (knows the latent)", fmt(ceiling.get(split), "pct"), *pad])
    return rows


def headline(metrics: dict, ceiling: dict) -> Section:
    """The paper's comparison on the in-site test split, with chance and the ceiling."""
    header = ["variant", "balanced accuracy [95% CI]", "severe-to-normal (count) [95% CI]"]
    rows = [[v, _ba(m.get("test", {})), _s2n(m.get("test", {}))] for v, m in metrics.items()]
    rows += _baseline_rows(ceiling, "test", len(header))
    rows.append(
        [
            "paper, contrastive (Acharya & Kansakar 2026)",
            fmt(PAPER["balanced_accuracy"], "pct"),
            fmt(PAPER["severe_to_normal_rate"], "pct2"),
        ]
    )
    return Section("Paper comparison (in-site test)", header=header, rows=rows)


def sites(metrics: dict, ceiling: dict) -> Section | None:
    """In-site against held-out-site test, side by side."""
    if not any("external_test" in m for m in metrics.values()):
        return None
    header = ["variant", *(f"{SPLIT_NAMES[s]}: balanced accuracy" for s in SPLIT_NAMES)]
    header += [f"{SPLIT_NAMES[s]}: severe-to-normal" for s in SPLIT_NAMES]
    rows = [
        [v, *(_ba(m.get(s, {})) for s in SPLIT_NAMES), *(_s2n(m.get(s, {})) for s in SPLIT_NAMES)]
        for v, m in metrics.items()
    ]
    if ceiling.get("available"):
        rows.append(["Bayes ceiling", *(fmt(ceiling.get(s), "pct") for s in SPLIT_NAMES), "", ""])
    text = (
        "The held-out site's studies are never seen in training: a gap between the two columns "
        "is what scanner appearance costs."
    )
    return Section("In-site against held-out-site test", [text], header, rows)


def localisation(metrics: dict) -> Section:
    """The localisation head against the trivial head that answers the ROI's centre."""
    header = ["variant", "split", "head RMSE (ROI px)", "head RMSE (mm)", "'the centre' RMSE (px)",
              "'the centre' RMSE (mm)"]  # fmt: skip
    rows = [
        [v, SPLIT_NAMES[s], *(fmt(m.get(s, {}).get(k)) for k in (
            "loc_rmse_px", "loc_rmse_mm", "loc_rmse_px_centre", "loc_rmse_mm_centre"))]
        for v, m in metrics.items()
        for s in SPLIT_NAMES
        if s in m
    ]  # fmt: skip
    text = (
        "Crops are cut around the labelled point shifted by a seeded offset, so the canal point is "
        f"not at the centre. The paper's {PAPER['loc_rmse_px']} px is in native image pixels, "
        "ours in ROI pixels: compare the mm columns between variants, not with the paper."
    )
    return Section("Localisation head against 'the centre'", [text], header, rows)


def end_to_end(metrics: dict, end_to_end_metrics: dict) -> Section | None:
    """Grading at the labelled points against grading at the localiser's points."""
    if not end_to_end_metrics:
        return None
    header = ["variant", "split", "at labelled points", "at localised points"]
    rows = [
        [v, SPLIT_NAMES[s], _ba(metrics.get(v, {}).get(s, {})), _ba(by_split.get(s, {}))]
        for v, by_split in end_to_end_metrics.items()
        for s in SPLIT_NAMES
        if s in by_split
    ]
    text = (
        "Balanced accuracy when the crop is centred on the localiser's predicted point and slice "
        "(no label used), beside the crops around the labelled points."
    )
    return Section("End-to-end grading", [text], header, rows)


def pretraining(probe: dict | None) -> Section | None:
    """What the frozen pretrained features know about the grade, against chance and against a
    randomly initialised encoder; and which views the augmentation audit flagged."""
    if not probe:
        return None
    verdict = (
        "FAILED: the probe is at chance, the encoder carries no grade information."
        if probe.get("failed")
        else "The features carry grade information (the probe is above chance)."
    )
    if not probe.get("failed") and probe.get("beats_random_init") is False:
        verdict += " But no more than a randomly initialised encoder's: pretraining added none."
    rows = [
        ["linear probe (balanced accuracy, out of fold)", fmt(probe.get("probe_balanced_accuracy"), "pct")],
        ["kNN (balanced accuracy, out of fold)", fmt(probe.get("knn_balanced_accuracy"), "pct")],
        ["linear probe, randomly initialised encoder", fmt(probe.get("random_init_probe_balanced_accuracy"), "pct")],
        ["kNN, randomly initialised encoder", fmt(probe.get("random_init_knn_balanced_accuracy"), "pct")],
        ["chance", fmt(probe.get("chance"), "pct")],
    ]  # fmt: skip
    if "compromise_r2" in probe:  # the phantom knows each disc's visible canal compromise
        rows.append(
            [
                "canal compromise R^2 (ridge, out of fold): pretrained / random init",
                f"{fmt(probe['compromise_r2'])} / {fmt(probe.get('random_init_compromise_r2'))}",
            ]
        )
    broken = probe.get("augment_violations") or {}
    audit = (
        "The augmentation audit flagged "
        + ", ".join(f"{k} ({v:.3f})" for k, v in broken.items())
        + f": each moves the visible canal compromise by more than {probe.get('augment_audit_bound')}."
        if broken
        else "Every pretraining view passed the augmentation audit (canal compromise kept)."
    )
    text = (
        "Cross-validated by study over the training and validation discs, on the frozen "
        "pretrained features (the test splits are never read). "
        f"{verdict} The probe over the epochs is in pretraining_curve.png. {audit}"
    )
    return Section("What the pretrained encoder knows", [text], ["probe", "value"], rows)


def detail(metrics: dict, split: str) -> Section:
    variants = list(metrics)
    rows = [
        [label, *(fmt(metrics[v].get(split, {}).get(key), kind) for v in variants)]
        for key, label, kind in DETAIL
    ]
    return Section(
        f"All figures ({SPLIT_NAMES.get(split, split)})", header=["metric", *variants], rows=rows
    )


def _caveat(data_source: str) -> str:
    return (
        f"Our figures are measured on the data actually used here ({data_source}), on held-out test "
        "studies (split by study, so no patient is on both sides); the paper's are on the RSNA 2024 "
        "data with a disc-level split. They are quoted for orientation, not as a like-for-like comparison."
    )


def sections(
    metrics: dict,
    data_source: str,
    ceiling: dict | None = None,
    end_to_end_metrics: dict | None = None,
    probe: dict | None = None,
    extra: list[Section] | None = None,
) -> list[Section]:
    """The report's sections in order."""
    ceiling = ceiling or {"available": False}
    top = headline(metrics, ceiling)
    top.paragraphs.append(_caveat(data_source))
    if not ceiling.get("available"):
        top.paragraphs.append(
            f"No Bayes ceiling: {ceiling.get('reason', 'the latent is unknown')}."
        )
    splits = [
        s for s in ("test", "external_test", "validation") if any(s in m for m in metrics.values())
    ]
    parts = [
        top,
        sites(metrics, ceiling),
        pretraining(probe),
        localisation(metrics),
        end_to_end(metrics, end_to_end_metrics or {}),
    ]
    parts += extra or []
    parts.append(
        Section(
            "Label efficiency",
            ["The label-efficiency study (`make study`: every variant fine-tuned on 5-100% of the "
             "labelled training studies, over seeds) writes its table, figure and page beside this "
             "report: label_efficiency.csv, label_efficiency.png, label_efficiency.html."],
        )
    )  # fmt: skip
    parts += [detail(metrics, s) for s in splits]
    parts.append(
        Section(
            "Figures",
            ["Intervals are 95% percentile bootstrap intervals resampled by study. The RSNA score is "
             "the competition's sample-weighted log loss restricted to spinal canal stenosis."],
            figures=list(FIGURES),
        )
    )  # fmt: skip
    return [p for p in parts if p is not None]
