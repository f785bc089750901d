"""Run every ``benchmarks/bench_*.py`` in turn (``make bench``). Each prints its own figures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent

if __name__ == "__main__":
    selected = sys.argv[1:]
    failures = 0
    for script in sorted(HERE.glob("bench_*.py")):
        if selected and not any(s in script.stem for s in selected):
            continue
        print(f"\n=== {script.stem} ===", flush=True)
        failures += subprocess.call([sys.executable, str(script)]) != 0
    sys.exit(1 if failures else 0)
