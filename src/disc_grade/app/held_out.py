"""The folders of the studies a training run held out (both test splits), one per line:
``make grade`` grades them with ``disc-grade grade``.

    python -m disc_grade.app.held_out RAW_ROOT [STUDY_SPLITS]
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

HELD_OUT = ("test", "external_test")


def held_out_folders(raw_root: Path, splits: Path) -> list[Path]:
    """The image folders of the held-out studies, in study order.

    Raises:
        FileNotFoundError: no split table (train first) or a study's folder is missing.
    """
    if not splits.is_file():
        raise FileNotFoundError(f"{splits} does not exist: train first with `make run`")
    table = pd.read_parquet(splits)
    ids = sorted(table.loc[table["split"].isin(HELD_OUT), "study_id"].astype(int))
    folders = [raw_root / "train_images" / str(i) for i in ids]
    missing = [str(f) for f in folders if not f.is_dir()]
    if missing:
        raise FileNotFoundError(f"held-out study folders missing: {', '.join(missing[:3])}")
    return folders


if __name__ == "__main__":
    raw = Path(sys.argv[1])
    table = Path(sys.argv[2] if len(sys.argv) > 2 else "data/02_intermediate/study_splits.parquet")
    print("\n".join(str(f) for f in held_out_folders(raw, table)))
