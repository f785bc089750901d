"""Where the raw data came from: the phantom's marker, or the identity of a user's download.

The phantom writes a marker file into every folder it fills and refuses any folder that holds
files without it, so a user's data is never overwritten. The report's data source is read from
the data in the same way, never from a parameter.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from disc_grade.rsna import TRAIN_CSV

PHANTOM_MARKER = ".disc_grade_phantom"
MARKER_TEXT = "written by disc-grade's phantom pipeline; the phantom may overwrite this folder\n"


class NotOurs(RuntimeError):
    """A folder holds files that the phantom did not write."""


def is_phantom(root: str | Path) -> bool:
    """Whether ``root`` was written by the phantom pipeline (it holds the marker)."""
    return (Path(root) / PHANTOM_MARKER).is_file()


def claim_for_phantom(root: str | Path) -> Path:
    """Make ``root`` the phantom's: create it with the marker, or accept it if it has one.

    A folder holding no file at all (empty, or only empty folders, as ``make clean-data``
    leaves it) is claimed too.

    Raises:
        NotOurs: ``root`` holds files and no marker (a real download, say); nothing is written.
    """
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise NotOurs(f"refusing to write the phantom to '{root}': it is a file, not a folder")
    holds_files = root.is_dir() and any(p.is_file() for p in root.rglob("*"))
    if holds_files and not is_phantom(root):
        raise NotOurs(
            f"refusing to write the phantom into '{root}': it holds files the phantom did not "
            f"write (no {PHANTOM_MARKER}; real data?). Point raw_root at an empty or new "
            "folder, e.g. --params=raw_root=data/01_raw/phantom."
        )
    root.mkdir(parents=True, exist_ok=True)
    (root / PHANTOM_MARKER).write_text(MARKER_TEXT)
    return root


def describe_source(root: str | Path) -> dict:
    """What the raw root holds, for the report: phantom or not, and an identity of its labels.

    The identity is the SHA-256 of ``train.csv``: two runs on the same labels say the same.
    """
    root = Path(root)
    labels = root / TRAIN_CSV
    digest = hashlib.sha256(labels.read_bytes()).hexdigest() if labels.is_file() else None
    phantom = is_phantom(root)
    kind = (
        "the phantom cohort (synthetic studies in the RSNA 2024 layout)"
        if phantom
        else "data in the RSNA 2024 layout (not written by the phantom)"
    )
    return {
        "phantom": phantom,
        "raw_root": str(root),
        "train_csv_sha256": digest,
        "description": f"{kind} at {root}"
        + (f", train.csv sha256 {digest[:12]}" if digest else ""),
    }
