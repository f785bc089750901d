"""The report says how the novelty warning's threshold was set and what it promises."""

from __future__ import annotations

from disc_grade.evaluation.report_scanner import novelty_line, novelty_section


def _joint(rank: int, n: int, reached: float) -> dict:
    rule = {
        "false_rate": 0.1,
        "confidence": 0.95,
        "confidence_reached": reached,
        "rank": rank,
        "n_validation": n,
    }
    by_split = {
        "train": {"n_studies": 150, "flagged": 0.01},
        "validation": {"n_studies": n, "flagged": 1 / n},
        "test": {"n_studies": 51, "flagged": 0.039},
        "external_test": {"n_studies": 60, "flagged": 0.7},
    }
    return {"novelty": {"threshold": 2.5, "rule": rule, "by_split": by_split}}


def test_the_section_names_the_rank_the_rate_and_the_confidence():
    section = novelty_section(_joint(50, 51, 0.969))
    text = " ".join(section.paragraphs)
    assert "ranked 50 of 51" in text and "under 10.0% with 95.0% confidence" in text
    assert "too few" not in text
    assert [row[0] for row in section.rows] == [
        "validation (sets the threshold)",
        "in-site test",
        "held-out site",
    ]
    assert novelty_line(_joint(50, 51, 0.969)).endswith("in-site test 3.9%, held-out site 70.0%.")


def test_too_few_validation_studies_are_said():
    text = " ".join(novelty_section(_joint(18, 18, 0.85)).paragraphs)
    assert "too few validation studies for it: their largest reaches 85.0%" in text
