"""Every benchmark runs at its smallest size (``--smoke``), so a benchmark that breaks is a red
test, not a surprise for the next ``make bench``. No timing is asserted: the figures are
``make bench``'s, on a quiet machine."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from benchmarks.run_all import scripts
from tests.conftest import PROJECT_ROOT


def test_every_benchmark_is_found():
    names = {s.stem for s in scripts()}
    assert {"bench_inference", "bench_scale", "bench_data"} <= names, names


@pytest.mark.e2e
@pytest.mark.parametrize("script", scripts(), ids=lambda path: path.stem)
def test_the_benchmark_runs_at_its_smallest_size(script):
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(
        [sys.executable, str(script), "--smoke"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
    )
    assert done.returncode == 0, f"{script.name} --smoke failed:\n{done.stderr[-4000:]}"
    assert done.stdout.strip(), f"{script.name} --smoke printed no figures"
