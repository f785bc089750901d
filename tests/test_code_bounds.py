"""The house's bounds, on the source, the tests and the benchmarks alike: no file over 250
formatted lines, no function over 80, no line kept from the formatter, every file formatted."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from tests.conftest import PROJECT_ROOT

SRC = PROJECT_ROOT / "src" / "disc_grade"
ROOTS = {
    "src": SRC,
    "tests": PROJECT_ROOT / "tests",
    "benchmarks": PROJECT_ROOT / "benchmarks",
}


@pytest.mark.parametrize("root", ROOTS.values(), ids=ROOTS.keys())
def test_no_file_is_over_250_lines(root):
    long = {
        str(p.relative_to(PROJECT_ROOT)): n
        for p in root.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 250
    }
    assert long == {}, long


@pytest.mark.parametrize("root", ROOTS.values(), ids=ROOTS.keys())
def test_no_function_is_over_80_lines(root):
    long = {}
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                if (n := node.end_lineno - node.lineno + 1) > 80:
                    long[f"{path.relative_to(PROJECT_ROOT)}:{node.name}"] = n
    assert long == {}, long


def test_no_line_is_kept_from_the_formatter():
    """A bound is met by splitting a file by concept, not by squeezing it: no line the formatter
    is told to skip."""
    marker = "fmt: " + "skip"
    kept = [
        f"{p.relative_to(PROJECT_ROOT)}:{i}"
        for root in ROOTS.values()
        for p in root.rglob("*.py")
        for i, line in enumerate(p.read_text().splitlines(), start=1)
        if marker in line
    ]
    assert kept == [], kept


def test_the_lines_counted_are_the_formatters():
    """``ruff format`` leaves every file as it is, so the bounds count formatted lines."""
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", *map(str, ROOTS.values())],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
