"""Report sections for the foraminal and subarticular families and the full RSNA score.

Each family's figures stand beside any constant grader (balanced accuracy 1/3) and its frozen
encoder's probe beside a random encoder's; the full score stands beside the prior, the grader
that answers every target with its condition's training frequencies.
"""

from __future__ import annotations

from disc_grade.evaluation.render import Section, fmt
from disc_grade.evaluation.report import CHANCE_BALANCED_ACCURACY, _ba, _ci, _s2n
from disc_grade.rsna import CONDITIONS, condition_family

BASELINES = {
    "prior": "prior (training frequencies)",
    "weighted_prior": "best constant (frequencies x weights 1/2/4)",
}
READ_ON = {
    "foraminal": "parasagittal sagittal T1 slices, one ROI per side and level",
    "subarticular": "axial T2 slices through each disc, one ROI per side and level",
}
ENCODERS = {
    "own": "its own encoder, pretrained contrastively on this family's training ROIs",
    "spinal": "the canal's encoder, shared (pretrained on sagittal T2 canal ROIs)",
}


def skipped_section(family: str, status: dict) -> Section:
    """A family that could not be trained: why, with its label cells by reason."""
    title = f"{family.capitalize()} stenosis: skipped"
    text = [
        f"Not trained: {status.get('reason', 'no usable training target')}. Its "
        f"{fmt(status.get('label_cells'), 'int')} label cells are all listed in "
        f"`{family}/alignment_exclusions.csv`; the RSNA score below gives its targets the "
        "training prior, and inference flags them.",
    ]
    return Section(title, text)


def family_section(
    family: str,
    metrics: dict,
    probe: dict | None,
    ceiling: dict | None = None,
    status: dict | None = None,
) -> Section:
    """One family's test figures per variant, both sides pooled and each side, beside chance
    and, where the latent is known (the phantom), the Bayes ceiling; or why it was skipped."""
    if status is not None and not status.get("trained", True):
        return skipped_section(family, status)
    sides = [c for c in CONDITIONS if condition_family(c) == family]
    header = ["variant", "balanced accuracy", *[f"{c.split('_')[0]} side" for c in sides]]
    header += ["severe-to-normal", "log loss (1/2/4)"]
    rows = []
    n = None
    for variant, by_split in metrics.items():
        m = by_split.get("test")
        if not m:
            continue
        n = (m.get("n_discs"), m.get("n_studies"))
        rows.append(
            [
                variant,
                _ba(m),
                *[
                    fmt(m.get(f"balanced_accuracy_{c}"), "pct") + _ci(m, f"balanced_accuracy_{c}")
                    for c in sides
                ],
                _s2n(m),
                fmt(m.get("family_log_loss")),
            ]
        )
    chance = fmt(CHANCE_BALANCED_ACCURACY, "pct")
    rows.append(["any constant grader", chance, *[chance for _ in sides], "n/a", "n/a"])
    if ceiling and ceiling.get("available"):
        best = fmt(ceiling.get("test"), "pct")
        rows.append(["Bayes ceiling (knows the latent)", best, *["" for _ in sides], "", ""])
    text = [f"Graded on {READ_ON[family]}; left and right are told apart by geometry."]
    if n:
        text.append(f"In-site test: {n[0]} targets of {n[1]} studies.")
    if probe:
        text.append(
            f"Encoder: {ENCODERS.get(probe.get('encoder_source'), probe.get('encoder_source'))}. "
            f"Linear probe on its frozen features {fmt(probe.get('probe_balanced_accuracy'), 'pct')}, "
            f"a random encoder's {fmt(probe.get('random_init_probe_balanced_accuracy'), 'pct')}."
        )
    if ceiling and ceiling.get("available"):
        text.append(
            f"Bayes ceiling over the whole cohort: {fmt(ceiling.get('cohort'), 'pct')} (no grader "
            "can predict the reader's noise)."
        )
    title = f"{family.capitalize()} stenosis (in-site test)"
    return Section(title, text, header, rows)


def rsna_section(score: dict) -> Section:
    """The competition score over all 25 targets of the test studies, per variant and the prior."""
    header = ["grader", "spinal", "foraminal", "subarticular", "any severe spinal", "RSNA score"]
    rows = [
        [
            BASELINES.get(name, name),
            fmt(s.get("spinal_log_loss")),
            fmt(s.get("foraminal_log_loss")),
            fmt(s.get("subarticular_log_loss")),
            fmt(s.get("any_severe_spinal_log_loss")),
            fmt(s.get("rsna_score")),
        ]
        for name, s in score.items()
    ]
    first = next(iter(score.values()), {})
    skipped = ", ".join(
        f"{family} {n}" for family, n in (first.get("n_at_prior_by_family") or {}).items() if n
    )
    text = [
        "The competition's metric over all 25 targets of the in-site test studies (lower is "
        "better): a log loss per family with sample weights 1/2/4, the any-severe-spinal term, "
        "and their mean. Each variant grades every family with its own fine-tuned model.",
        f"{fmt(first.get('n_studies'), 'int')} studies, {fmt(first.get('n_scored_targets'), 'int')} "
        f"scored targets, {fmt(first.get('n_at_prior'), 'int')} of them at the prior because "
        f"they could not be graded (excluded cells, or a skipped condition){': ' if skipped else ''}"
        f"{skipped}.",
    ]
    return Section("RSNA score over all five conditions (in-site test)", text, header, rows)


LOCALISERS = {
    "localiser": "localiser (slice: confidence and geometric prior)",
    "localiser_presence_only": "localiser (slice: confidence alone)",
    "placement": "placement from the canal point (learnt offsets)",
}


def localiser_section(by_family: dict[str, dict]) -> Section:
    """How near the reader's foraminal and subarticular points each way of finding them lands,
    on the in-site test studies."""
    header = ["family", "method", "found", "median error (mm)", "90th centile (mm)"]
    header += ["within", "reader's slice"]
    rows = []
    within_key = None
    for family, metrics in by_family.items():
        for method, by_split in metrics.items():
            m = by_split.get("test") if isinstance(by_split, dict) else None
            if not m:
                continue
            within_key = next((k for k in m if k.startswith("within_")), within_key)
            rows.append(
                [
                    family,
                    LOCALISERS.get(method, method),
                    f"{fmt(m.get('n_found'), 'int')} / {fmt(m.get('n_targets'), 'int')}",
                    fmt(m.get("median_error_mm")),
                    fmt(m.get("p90_error_mm")),
                    fmt(m.get(within_key), "pct") if within_key else "n/a",
                    fmt(m.get("same_slice"), "pct"),
                ]
            )
    if within_key:
        header[5] = f"within {within_key.removeprefix('within_')}"
    text = [
        "Where the foramina (sagittal T1) and lateral recesses (axial T2) of the in-site test "
        "studies are found, against the reader's points: errors in patient space, so a wrong "
        "slice counts. All methods start from the labelled canal points (the midline and the "
        "disc planes). The shares are over every labelled target: one not found counts as wrong.",
    ]
    return Section("Finding the foramina and recesses (in-site test)", text, header, rows)
