"""The README's commands as a user runs them: read from the README itself, placeholders
replaced, in a tiny copy of the project with the project's environment where the README expects
it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import PROJECT_ROOT
from tests.project_copy import tiny_copy


def readme_block(heading: str) -> list[str]:
    """The command lines of the first ``bash`` block after ``heading`` in the README."""
    text = (PROJECT_ROOT / "README.md").read_text()
    start = text.index(heading)
    block = text[text.index("```bash\n", start) + len("```bash\n") :]
    block = block[: block.index("```")]
    return [line for line in block.splitlines() if line.strip()]


def as_user(project: Path, lines: list[str], replace: dict[str, str]) -> str:
    """Run ``lines`` in ``project`` with bash, placeholders replaced; stdout and stderr."""
    script = "\n".join(lines)
    for placeholder, value in replace.items():
        script = script.replace(placeholder, value)
    env = {
        **os.environ,
        "KEDRO_DISABLE_TELEMETRY": "true",
        "DVC_NO_ANALYTICS": "1",
        "GIT_AUTHOR_NAME": "ci",
        "GIT_AUTHOR_EMAIL": "ci@example.invalid",
        "GIT_COMMITTER_NAME": "ci",
        "GIT_COMMITTER_EMAIL": "ci@example.invalid",
    }
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{script}\nfailed:\n{output[-4000:]}"
    return output


def user_project(target: Path) -> Path:
    """A tiny copy of the project with the project's environment where the README expects it."""
    project = tiny_copy(target)
    venv = Path(sys.executable).parent.parent
    installed = venv / ".installed"
    # `make run` would reinstall a stale environment from the copy: never let it
    assert (
        not installed.exists()
        or installed.stat().st_mtime >= (PROJECT_ROOT / "pyproject.toml").stat().st_mtime
    ), "pyproject.toml changed since the environment was built: run `make setup`"
    (project / ".venv").symlink_to(venv)
    return project
