"""What ``disc-grade grade`` writes into its output folder, every file saying what the model is:
``submission.csv`` (the RSNA form), ``grades.csv``, ``files.csv``, ``studies.csv``, ``run.json``,
``index.html``, one page per study and its figure (``figures/<study>.png``, as the Kedro inference
pipeline writes it)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from disc_grade.app.pages import index_page, study_page, study_summary
from disc_grade.app.run import Graded
from disc_grade.shipping.contents import warning_of

OUTPUTS = ("submission.csv", "grades.csv", "files.csv", "studies.csv", "run.json", "index.html")


def _png(draw, path: Path) -> str | None:
    """A lazily drawn figure saved as ``path``; its name relative to the pages (None where it
    cannot be drawn)."""
    import matplotlib.pyplot as plt

    try:
        fig = draw()
    except Exception:  # noqa: BLE001 - a page without its figure beats no page
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=80)
    plt.close(fig)
    return f"{path.parent.name}/{path.name}"


def clear_pages(out: Path) -> None:
    """Remove an earlier run's study pages and figures from ``out`` (``<study>.html``,
    ``figures/<study>.png``), so that the folder shows this run's studies only."""
    stale = [p for p in out.glob("*.html") if p.stem.isdigit()]
    stale += [p for p in (out / "figures").glob("*.png") if p.stem.isdigit()]
    for path in stale:
        path.unlink()


def write_submission(submission: pd.DataFrame, path: Path, warning: str) -> None:
    """The RSNA form; a model trained on the phantom says so in a ``#`` line above the header
    (``pd.read_csv(path, comment="#")`` reads it)."""
    with open(path, "w") as fh:
        if warning:
            fh.write(f"# WARNING: model {warning}\n")
        submission.to_csv(fh, index=False)


def write_outputs(graded: Graded, out: Path, meta: dict, inputs: list[Path]) -> dict:
    """Every output file under ``out``; the run's summary (``run.json``'s content)."""
    from tqdm.auto import tqdm

    out.mkdir(parents=True, exist_ok=True)
    clear_pages(out)
    warning = warning_of(meta)
    write_submission(graded.submission, out / "submission.csv", warning)
    graded.grades.assign(warning=warning).to_csv(out / "grades.csv", index=False)
    graded.files.assign(warning=warning).to_csv(out / "files.csv", index=False)
    summary = study_summary(graded.grades)
    summary.assign(warning=warning).to_csv(out / "studies.csv", index=False)
    skipped = int((graded.files["status"] == "skipped").sum())
    (out / "index.html").write_text(index_page(summary, warning, skipped))
    for study_id, own in tqdm(
        graded.grades.groupby("study_id"), desc="study pages", unit="study", disable=None
    ):
        figure = graded.figures.get(str(study_id))
        png = _png(figure, out / "figures" / f"{study_id}.png") if figure else None
        (out / f"{study_id}.html").write_text(study_page(int(study_id), own, png, warning))
    run = {
        "inputs": [str(p) for p in inputs],
        "studies": int(summary.shape[0]),
        "targets": int(len(graded.grades)),
        "graded": int(graded.grades["graded"].astype(bool).sum()),
        "files": int(len(graded.files)),
        "files_skipped": skipped,
        "unlike_training": int(summary["unlike training"].sum()) if len(summary) else 0,
        "warning": warning,
        "model": {
            "format": meta.get("format"),
            "package_version": meta.get("package_version"),
            "trained_on": (meta.get("trained_on") or {}).get("description"),
            "phantom": bool((meta.get("trained_on") or {}).get("phantom")),
            "train_csv_sha256": (meta.get("trained_on") or {}).get("train_csv_sha256"),
        },
    }
    (out / "run.json").write_text(json.dumps(run, indent=2))
    return run
