"""The report's row per technique: its setting, what validation said and whether it was kept,
read from the run's own results; the sides' row only for a sided condition."""

from __future__ import annotations

from disc_grade.evaluation.render import markdown_report
from disc_grade.evaluation.report_techniques import techniques_section
from disc_grade.pipelines.condition.bundle import techniques

SETTINGS = techniques({"n_channels": 3, "mirror_sides": True})


def _calibration(folded: bool) -> dict:
    """A variant's calibration: the split's choice, or with study folds the one out of fold."""
    on_split = {
        "method": "vector",
        "cross_validated_log_loss": {"as_trained": 0.61, "vector": 0.47},
        "decision": "grader",
        "posterior_won": 0.4,
    }
    if not folded:
        return on_split
    out_of_fold = {
        "method": "temperature",
        "decision": "posterior",
        "log_loss": {"as_trained": 0.6, "temperature": 0.45, "vector": 0.46},
        "posterior_won": 0.95,
        "n_studies": 200,
    }
    return {
        **on_split,
        "method": "temperature",
        "decision": "posterior",
        "out_of_fold": out_of_fold,
        "chosen_on_split": {"method": "vector", "decision": "grader"},
        "left_out_sites": {
            "log_loss": {"as_trained": 0.7, "temperature": 0.5},
            "posterior_won": {"as_trained": 0.2, "temperature": 0.85},
            "weight": 0.5,
        },
    }


def _results(folded: bool) -> dict:
    return {
        "techniques": SETTINGS,
        "calibration": {"contrastive": _calibration(folded)},
        "chosen_grader": {
            "variant": "contrastive",
            "by": "log_loss",
            "chosen_on_split": "scratch",
            "validation": {"contrastive": {"score": -0.45}, "scratch": {"score": -0.5}},
            "out_of_fold": {"used": folded, "why": "the validation split alone: split.n_folds < 2"},
            "leave_site_out": {"used": False, "why": "in-site validation only"},
            "fold_average": folded,
        },
        "metrics": {"contrastive": {"test": {"balanced_accuracy": 0.7, "log_loss": 0.5}}},
        "fold_average_metrics": (
            {"contrastive": {"n_folds": 3, "test": {"balanced_accuracy": 0.75, "log_loss": 0.45}}}
            if folded
            else {"skipped": True}
        ),
    }


def _rows(text: str, condition: str) -> dict[str, list[str]]:
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if line.startswith("|") and cells[0] == condition:
            rows[cells[1]] = cells[2:]
    return rows


def test_each_technique_has_a_row_with_its_setting_and_verdict():
    assert SETTINGS == {"mirror_sides": True}
    text = markdown_report(
        [techniques_section({"foraminal": _results(True), "spinal": _results(False)})]
    )
    foramina = _rows(text, "Neural foraminal narrowing")
    assert foramina["mirrored sides (`roi.mirror_sides`)"][-1] == "on"
    variant = foramina["contrastive pretraining (the grader variant)"]
    assert (
        variant[0].startswith("out-of-fold") and variant[1] == "contrastive -0.450; scratch -0.500"
    )
    assert variant[2] == "contrastive"
    folds = foramina["every choice out of fold (`split.n_folds`)"]
    assert folds[0] == "on" and "alone would choose scratch" in folds[1]
    calibration = foramina["calibration (weighted log loss)"]
    assert calibration[1] == (
        "out of fold (200 studies): as trained 0.600 -> temperature 0.450; on left-out sites "
        "(weight 0.5) as trained 0.700 -> temperature 0.500; the validation split alone would "
        "choose vector"
    )
    assert calibration[2] == "temperature"
    rule = foramina["grade called by the posterior rule"]
    assert rule[1].startswith("out of fold (200 studies): posterior won 95.0%")
    assert "; on left-out sites 85.0%;" in rule[1]
    assert rule[1].endswith("alone would choose grader") and rule[2] == "posterior"
    averaged = foramina["fold models averaged (test, against the whole-split grader)"]
    assert averaged[0] == "3 fold models of contrastive"
    assert averaged[1] == (
        "in-site balanced accuracy 0.750 against 0.700, log loss 0.450 against 0.500"
    )
    assert averaged[2].startswith("yes (selection.fold_average)")
    canal = _rows(text, "Spinal canal stenosis")
    assert "mirrored sides (`roi.mirror_sides`)" not in canal  # the canal has no sides
    assert canal["every choice out of fold (`split.n_folds`)"][0] == "off"
    assert "fold models averaged (test, against the whole-split grader)" not in canal
    assert canal["contrastive pretraining (the grader variant)"][0].startswith("validation-split")
    assert canal["calibration (weighted log loss)"][1] == (
        "cross-validated on the validation split: as trained 0.610 -> vector 0.470"
    )
    assert canal["grade called by the posterior rule"][1].endswith("won 40.0% of study resamples")


def test_an_untrained_condition_has_no_rows():
    assert techniques_section({"spinal": {"techniques": SETTINGS}}) is None
