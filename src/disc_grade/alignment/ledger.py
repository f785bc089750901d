"""A condition's label cells and the ledger that keeps them: every cell of ``train.csv`` is still
in play or dropped with its reason, so ``label cells == rows + exclusions`` can be reconciled."""

from __future__ import annotations

import pandas as pd

from disc_grade.alignment.schema import EXCLUSION_COLUMNS
from disc_grade.rsna import LEVELS, SPINAL, label_column


def label_cells(train: pd.DataFrame, condition: str = SPINAL) -> pd.DataFrame:
    """Long form of one condition's columns: one row per (study, level) cell, blanks kept.

    Raises:
        ValueError: ``train.csv`` lacks ``study_id`` or one of the condition's columns.
    """
    columns = [label_column(condition, level) for level in LEVELS]
    missing = [c for c in ["study_id", *columns] if c not in train.columns]
    if missing:
        raise ValueError(f"train.csv lacks column(s) {missing}; is raw_root an RSNA 2024 folder?")
    cells = train[["study_id", *columns]].melt(
        id_vars="study_id", var_name="column", value_name="label_text"
    )
    cells["level"] = cells.pop("column").str.removeprefix(f"{condition}_")
    cells["label_text"] = cells["label_text"].astype("string").str.strip().replace("", pd.NA)
    cells["study_id"] = cells["study_id"].astype("int64")
    return cells.sort_values(["study_id", "level"], kind="stable").reset_index(drop=True)


def exclusion(
    source: str, reason: str, frame: pd.DataFrame, detail: str | pd.Series = ""
) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            c: frame[c] if c in frame else pd.NA
            for c in EXCLUSION_COLUMNS
            if c not in ("source", "reason", "detail")
        }
    )
    out.insert(0, "source", source)
    out["reason"] = reason
    out["detail"] = detail
    return out[list(EXCLUSION_COLUMNS)].astype(EXCLUSION_COLUMNS)


class Ledger:
    """The cells still in play, and every cell dropped so far with its reason."""

    def __init__(self, cells: pd.DataFrame) -> None:
        self.cells = cells
        self.excluded: list[pd.DataFrame] = []

    def drop(self, mask: pd.Series, reason: str, detail: str | pd.Series = "") -> None:
        if mask.any():
            d = detail[mask] if isinstance(detail, pd.Series) else detail
            self.excluded.append(exclusion("label_cell", reason, self.cells[mask], d))
        self.cells = self.cells[~mask]
