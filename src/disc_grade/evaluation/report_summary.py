"""The report's first screen: what the run achieves, beside what a trivial grader scores and what
the data allow, with the paper's figures for orientation.

Per condition the grader inference ships (the variant validation chose, its study-fold models
averaged where they ship): its balanced accuracy with the study-bootstrap interval beside
chance and the Bayes ceiling, and its severe-to-normal rate; then the RSNA score over all 25
targets beside the best constant and the floor.
"""

from __future__ import annotations

from disc_grade.conditions import SPECS
from disc_grade.evaluation.render import Section, fmt, fmt_interval

SPLITS = {"test": "in-site test", "external_test": "held-out site"}
CHANCE = 1 / 3  # any constant grader (the majority class, the prior's argmax)
PAPER = {"balanced_accuracy": 0.781, "severe_to_normal_rate": 0.0213, "loc_rmse_px": 10.18}


def shipped(results: dict) -> tuple[str, dict]:
    """(name, figures by split) of what inference grades a condition with: the joint head where
    validation kept it, else the chosen grader: its
    study-fold models averaged where they ship, else the grader trained on the whole split."""
    chosen = (results.get("chosen_grader") or {}).get("variant")
    averaged = (results.get("fold_average_metrics") or {}).get(chosen) or {}
    joint = results.get("joint") or {}
    if joint.get("kept"):
        return f"joint head on {chosen}", joint["figures"]["joint"]
    if (results.get("chosen_grader") or {}).get("fold_average") and averaged.get("n_folds"):
        return f"{chosen}, {averaged['n_folds']} fold models averaged", averaged
    return str(chosen), (results.get("metrics") or {}).get(chosen, {})


def by_split(figures: dict, names: dict[str, str]) -> list[tuple[str, str, dict]]:
    """(split, its name, its figures) for each split of ``names`` that ``figures`` has."""
    return [(split, name, figures[split]) for split, name in names.items() if figures.get(split)]


def balanced_accuracy_text(m: dict) -> str:
    """A balanced accuracy with its study-bootstrap interval, as the summary prints it."""
    low, high = m.get("balanced_accuracy_ci_low"), m.get("balanced_accuracy_ci_high")
    interval = f" [{fmt(low, 'pct')}, {fmt(high, 'pct')}]" if low is not None else ""
    return fmt(m.get("balanced_accuracy"), "pct") + interval


def _s2n(m: dict) -> str:
    count = m.get("severe_to_normal_count")
    severe = m.get("confusion_severe_as_normal", 0) + m.get("confusion_severe_as_moderate", 0)
    severe += m.get("confusion_severe_as_severe", 0)
    of = f"{count} of {severe}" if count is not None else "n/a"
    return f"{fmt(m.get('severe_to_normal_rate'), 'pct2')} ({of})"


def _condition_rows(conditions: dict[str, dict]) -> list[list[str]]:
    rows = []
    for name, results in conditions.items():
        if not (results.get("chosen_grader") or {}).get("variant"):
            status = results.get("status") or {}
            rows.append([SPECS[name].title, "skipped", "", status.get("reason", ""), "", "", ""])
            continue
        grader, figures = shipped(results)
        ceiling = results.get("ceiling") or {}
        for split, split_name, m in by_split(figures, SPLITS):
            rows.append(
                [
                    SPECS[name].title,
                    grader,
                    split_name,
                    balanced_accuracy_text(m),
                    fmt(CHANCE, "pct"),
                    fmt(ceiling.get(split), "pct") if ceiling.get("available") else "n/a",
                    _s2n(m),
                ]
            )
    return rows


def _score_rows(score: dict) -> list[list[str]]:
    names = {
        "chosen": "as inference grades (each condition's choice)",
        "weighted_prior": "best constant (no image)",
        "floor": "floor (knows each target's latent)",
    }
    rows = []
    for key, label in names.items():
        cells = []
        for split in SPLITS:
            s = (score.get(split) or {}).get(key) or {}
            cells.append(fmt(s.get("rsna_score")) if s.get("available", True) else "n/a")
        rows.append([label, *cells])
    return rows


GAPS_TEXT = (
    "How far from what the data allow (phantom only), with 95% intervals over resamples of each "
    "split's studies: per condition the Bayes ceiling minus the balanced accuracy above, and the "
    "held-out site's gap minus the in-site one (what a scanner the graders never saw costs "
    "beyond what in-site grading already loses; an interval across 0 cannot tell the two "
    "apart); the RSNA score minus its floor."
)


def _interval(gap: dict | None) -> str:
    gap = gap or {}
    return fmt_interval(gap.get("gap"), gap.get("ci_low"), gap.get("ci_high"))


def gap_rows(gaps: dict) -> list[list[str]]:
    """The gaps table's rows (``gaps.json``): one per condition, then the RSNA score's."""
    rows = [
        [
            f"{SPECS[name].title}: ceiling minus balanced accuracy",
            _interval(found.get("test")),
            _interval(found.get("external_test")),
            _interval(found.get("difference")),
        ]
        for name, found in (gaps.get("conditions") or {}).items()
        if found
    ]
    score = gaps.get("rsna_score") or {}
    if score:
        rows.append(
            [
                "RSNA score minus its floor",
                _interval(score.get("test")),
                _interval(score.get("external_test")),
                _interval(score.get("difference")),
            ]
        )
    return rows


def summary_section(
    data_source: dict, conditions: dict[str, dict], score: dict, gaps: dict | None = None
) -> Section:
    """One screen: per condition the shipped grader against chance and the ceiling, the RSNA
    score against the best constant and the floor, the gaps to what the data allow with their
    intervals (phantom only), and the paper's figures."""
    header = [
        "condition",
        "grader",
        "split",
        "balanced accuracy [95% CI]",
        "chance",
        "Bayes ceiling",
        "severe-to-normal (count)",
    ]
    text = [
        f"Measured on {data_source.get('description', 'the data named below')}; split by study, "
        "the test studies never seen in training or in any choice. Balanced accuracy: 95% "
        "bootstrap intervals by study; chance is any constant grader; the Bayes ceiling is the "
        "best any grader could reach knowing each target's latent (phantom only).",
        f"The paper (Acharya & Kansakar 2026, the canal on the RSNA 2024 data, split by disc): "
        f"balanced accuracy {fmt(PAPER['balanced_accuracy'], 'pct')}, severe-to-normal "
        f"{fmt(PAPER['severe_to_normal_rate'], 'pct2')}; for orientation, not a like-for-like "
        "comparison.",
    ]
    score_header = ["RSNA score (lower is better)", *SPLITS.values()]
    tables = [(score_header, _score_rows(score))]
    if (gaps or {}).get("available") and gap_rows(gaps):
        text.append(GAPS_TEXT)
        gap_header = ["gap [95% CI]", *SPLITS.values(), "held-out minus in-site"]
        tables.append((gap_header, gap_rows(gaps)))
    return Section("Summary", text, header, _condition_rows(conditions), tables=tables)
