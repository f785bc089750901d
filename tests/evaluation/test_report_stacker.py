"""The report's study-stacker section: what out-of-fold cross-validation said, kept or set."""

from __future__ import annotations

from disc_grade.evaluation.report_joint import stacker_section


def _joint(kept: bool, by_validation: bool) -> dict:
    oof = {
        "given_log_loss": 0.52,
        "stacked_log_loss": 0.49,
        "share_won": 0.97,
        "n_targets": 2400,
        "n_studies": 240,
    }
    family = {"kept": kept, "kept_by_validation": by_validation, "out_of_fold": oof}
    test = {"subarticular": {"test": {"shipped_log_loss": 0.5, "stacked_log_loss": 0.47}}}
    return {
        "stacker": {
            "families": {"subarticular": family},
            "test": test,
            "params": {"confidence": 0.9},
        }
    }


def test_the_section_says_what_out_of_fold_said_and_whether_it_was_set():
    section = stacker_section(_joint(True, True))
    row = section.rows[0]
    assert row[:5] == [
        "subarticular",
        "2400 targets of 240 studies",
        "0.520 -> 0.490",
        "97.0%",
        "yes",
    ]
    assert row[5] == "in-site test 0.500 -> 0.470"
    assert "90.0% of the study resamples" in " ".join(section.paragraphs)
    assert stacker_section(_joint(True, False)).rows[0][4] == "yes (set)"
    assert row[6] == "no leave-site-out folds"


def test_a_family_the_left_out_sites_veto_says_so():
    joint = _joint(False, False)
    family = joint["stacker"]["families"]["subarticular"]
    sites = {"given_log_loss": 0.55, "stacked_log_loss": 0.6, "share_won": 0.02, "sites": ["C"]}
    family |= {"site_veto": True, "left_out_sites": sites}
    row = stacker_section(joint).rows[0]
    assert row[4] == "no (it stacks the left-out sites worse)"
    assert row[6] == "0.550 -> 0.600, lower in 2.0% (C)"


def test_without_folds_the_section_says_why():
    section = stacker_section({"stacker": {"skipped": True, "reason": "no study folds"}})
    assert "no study folds" in section.paragraphs[0]
    assert stacker_section({}) is None


def test_the_canal_row_shows_its_any_severe_term():
    joint = _joint(False, False)
    family = joint["stacker"]["families"].pop("subarticular")
    family["out_of_fold"] |= {"given_any_severe": 0.25, "stacked_any_severe": 0.31}
    joint["stacker"]["families"]["spinal"] = family
    assert stacker_section(joint).rows[0][2] == "0.520 -> 0.490; any severe 0.250 -> 0.310"
