"""What a trained model is when it is handed on: one self-describing bundle.

A bundle holds, per condition, the localiser (its weights, network and the settings that turn
its maps into targets) and the grader validation chose (its weights, network, calibration, its
study-fold models where they ship, the ROI settings), the joint head,
the grade frequencies targets without a grade get, and the metadata: format, package version,
the training data's fingerprint (phantom or not, ``train.csv`` hash, studies, sites) and the
test figures with their intervals. Grading reads only a bundle.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

import pandas as pd

BUNDLE_FORMAT = 2  # 2: the shipped grader has no study-context head
PHANTOM_WARNING = (
    "trained on the phantom (synthetic studies): its grades of real scans mean nothing; "
    "for testing the software only"
)


class BundleError(ValueError):
    """A model folder that is not a bundle this version can grade with."""


def package_version() -> str:
    try:
        return version("disc_grade")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def fingerprint(data_source: dict, study_splits: pd.DataFrame) -> dict:
    """What the models were trained on: phantom or not, the labels' hash, studies and sites per split."""
    splits = study_splits.groupby("split")
    return {
        "phantom": bool(data_source.get("phantom")),
        "train_csv_sha256": data_source.get("train_csv_sha256"),
        "description": data_source.get("description", ""),
        "n_studies": int(study_splits["study_id"].nunique()),
        "studies_by_split": {str(k): int(v) for k, v in splits["study_id"].nunique().items()},
        "sites_by_split": {
            str(k): sorted(str(s) for s in v.dropna().unique()) for k, v in splits["site"]
        },
    }


def figures(shipped_by_condition: dict[str, tuple[str, dict]], rsna_score: dict) -> dict:
    """The test figures of what ships: per condition its balanced accuracy with the study-
    bootstrap interval on the in-site test and the held-out site; the RSNA score beside the best
    constant (no image)."""
    out: dict[str, Any] = {"conditions": {}, "rsna_score": {}}
    for name, (grader, by_split) in shipped_by_condition.items():
        out["conditions"][name] = {"grader": grader} | {
            split: {
                k: (by_split.get(split) or {}).get(k)
                for k in (
                    "balanced_accuracy",
                    "balanced_accuracy_ci_low",
                    "balanced_accuracy_ci_high",
                )
            }
            for split in ("test", "external_test")
            if by_split.get(split)
        }
    for split in ("test", "external_test"):
        scores = rsna_score.get(split) or {}
        out["rsna_score"][split] = {
            "shipped": (scores.get("chosen") or {}).get("rsna_score"),
            "best_constant": (scores.get("weighted_prior") or {}).get("rsna_score"),
        }
    return out


def metadata(trained_on: dict, test_figures: dict, conditions: dict[str, dict]) -> dict:
    """The bundle's ``metadata.json``: everything but the weights."""
    return {
        "format": BUNDLE_FORMAT,
        "package_version": package_version(),
        "intended_use": "research only; not a medical device and not a diagnosis",
        "trained_on": trained_on,
        "test_figures": test_figures,
        "conditions": {name: describe(parts) for name, parts in conditions.items()},
    }


def describe(parts: dict) -> dict:
    """A condition's models in words and settings (no weights)."""
    grader, localiser = parts.get("grader") or {}, parts.get("localiser") or {}
    if not grader or not localiser:
        return {"shipped": False}
    return {
        "shipped": True,
        "grader": {
            "variant": grader["variant"],
            "encoder": grader["encoder"],
            "roi": grader["roi"],
            "fold_models": len((grader["folds"] or {}).get("folds") or {}),
            "calibration": {
                k: v for k, v in grader["calibration"].items() if not isinstance(v, dict | list)
            },
        },
        "localiser": {
            "channels": localiser["channels"],
            "n_maps": localiser["n_maps"],
            "find": {k: v for k, v in localiser["find"].items() if k != "offsets"},
        },
    }


def check(meta: dict, where: str) -> None:
    """Refuse a bundle of another format, naming the folder and the fix.

    Raises:
        BundleError: the format is missing or not ``BUNDLE_FORMAT``.
    """
    found = meta.get("format")
    if found != BUNDLE_FORMAT:
        raise BundleError(
            f"the model bundle at {where} is format {found!r} (disc-grade "
            f"{meta.get('package_version', '?')}); this disc-grade ({package_version()}) reads "
            f"format {BUNDLE_FORMAT}: export it again with this version (`disc-grade export`) "
            "or retrain (`make run`)"
        )


def warning_of(meta: dict) -> str:
    """The warning every output carries, or '' (a bundle trained on the phantom)."""
    return PHANTOM_WARNING if (meta.get("trained_on") or {}).get("phantom") else ""
