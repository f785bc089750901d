"""The model card every bundle carries (its ``README.md``): what it is for, what it was trained
on, what it scored, what it is made of."""

from __future__ import annotations

from disc_grade.conditions import SPECS
from disc_grade.evaluation.render import fmt
from disc_grade.evaluation.report_summary import balanced_accuracy_text
from disc_grade.shipping.contents import warning_of

SPLIT_NAMES = {"test": "in-site test", "external_test": "held-out site"}


def _figure_lines(figures: dict) -> list[str]:
    lines = [
        "| condition | grader | split | balanced accuracy [95% CI] (chance 33.3%) |",
        "|---|---|---|---|",
    ]
    for name, found in (figures.get("conditions") or {}).items():
        for split, split_name in SPLIT_NAMES.items():
            if found.get(split):
                lines.append(
                    f"| {SPECS[name].title} | {found['grader']} | {split_name} | "
                    f"{balanced_accuracy_text(found[split])} |"
                )
    lines += [
        "",
        "| RSNA score (lower is better) | shipped | best constant (no image) |",
        "|---|---|---|",
    ]
    for split, split_name in SPLIT_NAMES.items():
        s = (figures.get("rsna_score") or {}).get(split) or {}
        lines.append(f"| {split_name} | {fmt(s.get('shipped'))} | {fmt(s.get('best_constant'))} |")
    return lines


def _sites(by_split: dict) -> str:
    return "; ".join(f"{split}: {', '.join(sites)}" for split, sites in by_split.items())


def model_card(meta: dict) -> str:
    """The bundle's ``README.md`` from its metadata."""
    trained = meta.get("trained_on") or {}
    warning = warning_of(meta)
    lines = ["# disc-grade model bundle", ""]
    if warning:
        lines += [f"**Warning: {warning}.**", ""]
    lines += [
        "## Intended use",
        "",
        "Research on grading lumbar spine degeneration (the five RSNA 2024 conditions) from MRI.",
        "Not a medical device; its grades are not a diagnosis and must not guide care.",
        "",
        "## Trained on",
        "",
        f"{trained.get('description') or 'unknown data'}.",
        "",
        f"- studies: {trained.get('n_studies')} ({', '.join(f'{k} {v}' for k, v in (trained.get('studies_by_split') or {}).items())})",
        f"- train.csv SHA-256: `{trained.get('train_csv_sha256')}`",
        f"- sites: {_sites(trained.get('sites_by_split') or {})}",
        "",
        "## Test figures",
        "",
        "Measured on studies never seen in training or in any choice; 95% bootstrap intervals by study.",
        "",
        *_figure_lines(meta.get("test_figures") or {}),
        "",
        "## Contents",
        "",
        f"Bundle format {meta.get('format')}, written by disc-grade {meta.get('package_version')}.",
        "",
    ]
    for name, parts in (meta.get("conditions") or {}).items():
        if not parts.get("shipped"):
            lines.append(
                f"- {SPECS[name].title}: not trained (its targets get the grade frequencies)"
            )
            continue
        grader = parts["grader"]
        lines.append(
            f"- {SPECS[name].title}: grader `{grader['variant']}` (ResNet-{(grader['encoder'] or {}).get('depth')}, "
            f"{grader['fold_models']} fold models), "
            f"localiser with {parts['localiser']['n_maps']} maps"
        )
    lines += [
        "",
        "Files: `metadata.json` (this card's facts), `model.pt` (weights and settings; "
        "`torch.load(..., weights_only=True)`), `label_priors.csv`.",
        "",
        "Grade a folder of DICOM studies with it: `disc-grade grade INPUT --out DIR --models THIS_FOLDER`.",
    ]
    return "\n".join(lines) + "\n"
