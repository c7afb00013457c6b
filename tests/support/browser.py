"""Chromium for the browser tests (``tests/airflow_live/test_browser.py``): where it is, how to start it, screenshots.

The browser is Debian's ``chromium`` package, driven by Playwright without downloading a browser of its own
(``scripts/dev.py test`` installs the package where it can, and names it in ``FLYTE_TEST_CHROMIUM``). Imports no
Playwright: only the browser tests need it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_VARIABLE = "FLYTE_TEST_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
INSTALL_COMMAND = "apt-get install -y --no-install-recommends chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # as root in CI
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # No calls home: without these, Chromium keeps trying to reach Google's services on a closed network.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
"""Screenshots of the browser tests, one folder per test (``build/`` is not committed)."""


def chromium_executable() -> str:
    """The Chromium to drive: ``$FLYTE_TEST_CHROMIUM`` or ``/usr/bin/chromium``.

    When it is missing the test fails under ``CI=true`` (the browser tests must run there) and skips elsewhere, naming
    the command that installs it.
    """
    path = os.environ.get(CHROMIUM_VARIABLE) or DEFAULT_CHROMIUM
    if os.access(path, os.X_OK):
        return path
    message = f"no Chromium at {path} (set {CHROMIUM_VARIABLE}); install it with: {INSTALL_COMMAND}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"the browser tests must run in CI, but there is {message}")
    pytest.skip(message)


class Screenshots:
    """Numbered full-page screenshots of one test: ``build/screenshots/<test>/NN-<what>.png``."""

    def __init__(self, test_name: str) -> None:
        self.folder = SCREENSHOTS / test_name
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.count = 0

    def take(self, page: Any, what: str) -> Path:
        """Save what ``page`` (a Playwright page) shows now and return the file."""
        self.count += 1
        path = self.folder / f"{self.count:02d}-{what}.png"
        page.screenshot(path=str(path), full_page=True)
        return path
