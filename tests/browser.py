"""Debian's headless Chromium for the browser tests, driven by playwright (never a browser
download).

Where Chromium is missing a test skips with the install command, except under CI (``CI=true``,
as ``.ci/run`` sets it): there a missing browser fails the test, so a failed install can never
leave CI green with no page ever opened.
"""

from __future__ import annotations

import os
import shutil

import pytest

MISSING = "Debian's chromium is not installed (apt-get install chromium); .ci/run installs it"
# what keeps Chromium from reaching for the network this machine does not have
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def under_ci() -> bool:
    """Whether the tests run under CI (``CI`` set to true, as ``.ci/run`` and most CI do)."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def chromium() -> str:
    """The Chromium executable; skips the test where it is missing, fails it under CI."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if under_ci():
        pytest.fail(f"{MISSING}: under CI a browser test may not skip")
    pytest.skip(MISSING)


def launch(playwright):
    """A headless Chromium browser (``playwright.sync_api``'s ``p``)."""
    return playwright.chromium.launch(executable_path=chromium(), args=FLAGS)
