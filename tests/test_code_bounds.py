"""The house's bounds on the source: no file over 250 formatted lines, no function over 80."""

from __future__ import annotations

import ast

from tests.conftest import PROJECT_ROOT

SRC = PROJECT_ROOT / "src" / "disc_grade"


def test_no_source_file_is_over_250_lines():
    long = {
        str(p.relative_to(SRC)): n
        for p in SRC.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 250
    }
    assert long == {}, long


def test_no_function_is_over_80_lines():
    long = {}
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                if (n := node.end_lineno - node.lineno + 1) > 80:
                    long[f"{path.relative_to(SRC)}:{node.name}"] = n
    assert long == {}, long


def test_no_line_is_kept_from_the_formatter():
    """A bound is met by splitting a file by concept, not by squeezing it: no line the formatter
    is told to skip, in the source, the tests or the benchmarks."""
    marker = "fmt: " + "skip"
    kept = [
        f"{p.relative_to(PROJECT_ROOT)}:{i}"
        for root in (SRC, PROJECT_ROOT / "tests", PROJECT_ROOT / "benchmarks")
        for p in root.rglob("*.py")
        for i, line in enumerate(p.read_text().splitlines(), start=1)
        if marker in line
    ]
    assert kept == [], kept


def test_the_lines_counted_are_the_formatters():
    """``ruff format`` leaves every source file as it is, so the bounds count formatted lines."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", str(SRC)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
