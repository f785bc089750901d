"""The report's row per technique: its setting, what validation said and whether it was kept,
read from the run's own results; the sides' row only for a sided condition."""

from __future__ import annotations

from disc_grade.evaluation.render import markdown_report
from disc_grade.evaluation.report_techniques import techniques_section
from disc_grade.pipelines.condition.bundle import techniques

SETTINGS = techniques(
    {"n_channels": 5, "mirror_sides": True},
    {"encoder": {"depth": 18, "window": 3}, "augment": {"slice_shift": 0.5}, "average_epochs": 0},
)


def _results(folded: bool) -> dict:
    return {
        "techniques": SETTINGS,
        "calibration": {
            "contrastive": {
                "method": "vector",
                "cross_validated_log_loss": {"as_trained": 0.61, "vector": 0.47},
                "decision": "grader",
                "posterior_won": 0.4,
            }
        },
        "chosen_grader": {
            "variant": "contrastive",
            "by": "log_loss",
            "chosen_on_split": "scratch",
            "validation": {"contrastive": {"score": -0.45}, "scratch": {"score": -0.5}},
            "out_of_fold": {"used": folded, "why": "the validation split alone: split.n_folds < 2"},
            "leave_site_out": {"used": False, "why": "in-site validation only"},
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
    assert SETTINGS == {
        "mirror_sides": True,
        "slice_shift": 0.5,
        "n_slices": 5,
        "window": 3,
        "average_epochs": 0.0,
    }
    text = markdown_report(
        [techniques_section({"foraminal": _results(True), "spinal": _results(False)})]
    )
    foramina = _rows(text, "Neural foraminal narrowing")
    assert foramina["mirrored sides (`roi.mirror_sides`)"][-1] == "on"
    assert foramina["slice jitter (`finetuning.augment.slice_shift`)"][0].startswith("50.0%")
    assert foramina["slices read as a sequence (`roi.n_channels`, `encoder.window`)"][-1] == "on"
    assert foramina["weight averaging (`finetuning.average_epochs`)"][-1] == "off"
    variant = foramina["contrastive pretraining (the grader variant)"]
    assert (
        variant[0].startswith("out-of-fold") and variant[1] == "contrastive -0.450; scratch -0.500"
    )
    assert variant[2] == "contrastive"
    folds = foramina["every choice out of fold (`split.n_folds`)"]
    assert folds[0] == "on" and "alone would choose scratch" in folds[1]
    assert (
        foramina["calibration (cross-validated log loss)"][1] == "as trained 0.610 -> vector 0.470"
    )
    averaged = foramina["fold models averaged (test, reported only)"]
    assert averaged[0] == "3 fold models of contrastive"
    assert averaged[1] == (
        "in-site balanced accuracy 0.750 against 0.700, log loss 0.450 against 0.500"
    )
    canal = _rows(text, "Spinal canal stenosis")
    assert "mirrored sides (`roi.mirror_sides`)" not in canal  # the canal has no sides
    assert canal["every choice out of fold (`split.n_folds`)"][0] == "off"
    assert "fold models averaged (test, reported only)" not in canal
    assert canal["contrastive pretraining (the grader variant)"][0].startswith("validation-split")


def test_an_untrained_condition_has_no_rows():
    assert techniques_section({"spinal": {"techniques": SETTINGS}}) is None
