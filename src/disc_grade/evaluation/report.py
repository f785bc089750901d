"""The evaluation report: a summary on one screen, a table of contents, the same sections for
every condition, then how close the graders come to the data's limits, what validation chose, and
the RSNA score.

Every measured figure stands beside what a trivial grader scores (chance: a balanced accuracy of
1/3 for always answering one class; the prior and the best constant for the RSNA score) and,
where the data's latent is known (the phantom), beside the Bayes ceiling no grader can pass.
"""

from __future__ import annotations

from disc_grade.conditions import CANAL, SPECS
from disc_grade.evaluation.render import Section, contents, fmt
from disc_grade.evaluation.report_choices import choices_section, ladder_section
from disc_grade.evaluation.report_conditions import ba, condition_sections, s2n, variants
from disc_grade.evaluation.report_joint import joint_section, stacker_section
from disc_grade.evaluation.report_limits import limits_section, rsna_section
from disc_grade.evaluation.report_scanner import (
    adaptation_section,
    leave_site_out_section,
    novelty_line,
    novelty_section,
)
from disc_grade.evaluation.report_summary import CHANCE, PAPER, summary_section
from disc_grade.evaluation.report_techniques import techniques_section


def paper_section(canal: dict) -> Section | None:
    """The paper's comparison on the canal's in-site test split."""
    by_variant = variants(canal.get("metrics") or {})
    if not by_variant:
        return None
    header = ["variant", "balanced accuracy [95% CI]", "severe-to-normal (count) [95% CI]"]
    rows = [[v, ba(m.get("test", {})), s2n(m.get("test", {}))] for v, m in by_variant.items()]
    rows.append(["chance: any constant grader", fmt(CHANCE, "pct"), ""])
    rows.append(
        [
            "paper, contrastive (Acharya & Kansakar 2026)",
            fmt(PAPER["balanced_accuracy"], "pct"),
            fmt(PAPER["severe_to_normal_rate"], "pct2"),
        ]
    )
    text = (
        "The paper's figures are on the RSNA 2024 data with a disc-level split; ours on the data "
        "named above, split by study. They are quoted for orientation, not as a like-for-like "
        "comparison."
    )
    return Section(f"Paper comparison ({SPECS[CANAL].title}, in-site test)", [text], header, rows)


def sections(
    data_source: dict,
    conditions: dict[str, dict],
    score: dict,
    joint: dict | None = None,
    gaps: dict | None = None,
) -> list[Section]:
    """The report's sections in order: the summary, the contents, the data, the paper's
    comparison, each condition, the limits, the ladder, the choices, the RSNA
    score, and where the label-efficiency study is."""
    intro = Section(
        "Data",
        [
            f"Measured on {data_source.get('description', 'unknown data')}, on held-out test "
            "studies (split by study, once for every condition, so no patient is on two sides of "
            "any condition)."
        ],
    )
    parts = [intro, paper_section(conditions.get(CANAL, {}))]
    for name, results in conditions.items():
        parts += condition_sections(name, results)
    parts += [
        limits_section(conditions),
        ladder_section(conditions),
        joint_section(conditions),
        stacker_section(joint or {}),
        novelty_section(joint or {}),
        leave_site_out_section(conditions),
        adaptation_section(conditions),
        choices_section(conditions),
        techniques_section(conditions),
        *rsna_section(score),
        Section(
            "Label efficiency and the pretraining ablation",
            [
                "`make study` and `make ablation` write their tables, figures and pages beside "
                "this report, per condition: <condition>/label_efficiency.html, "
                "<condition>/ablation.html."
            ],
        ),
    ]
    parts = [p for p in parts if p is not None]
    summary = summary_section(data_source, conditions, score, gaps)
    summary.paragraphs += [line for line in [novelty_line(joint or {})] if line]
    return [summary, contents(parts), *parts]
