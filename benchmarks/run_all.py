"""Run every ``benchmarks/bench_*.py`` in turn (``make bench``). Each prints its own figures.

``python benchmarks/run_all.py [--smoke] [name ...]``: only the benchmarks whose name holds one
of the names; ``--smoke`` runs each at its smallest size with no goal checked (what
``tests/test_benchmarks.py`` does, so a benchmark that breaks is a red test).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent


def scripts(selected: list[str] | None = None) -> list[Path]:
    """Every ``bench_*.py``, or those whose name holds one of ``selected``."""
    return [
        s
        for s in sorted(HERE.glob("bench_*.py"))
        if not selected or any(name in s.stem for name in selected)
    ]


if __name__ == "__main__":
    flags = [a for a in sys.argv[1:] if a.startswith("--")]
    failures = []
    for script in scripts([a for a in sys.argv[1:] if not a.startswith("--")]):
        print(f"\n=== {script.stem} ===", flush=True)
        if subprocess.call([sys.executable, str(script), *flags]) != 0:
            failures.append(script.stem)
    if failures:
        print(f"\nfailed: {', '.join(failures)}")
    sys.exit(1 if failures else 0)
