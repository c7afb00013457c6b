"""flytekit as the tests' independent peer, and as the code the sandbox runs with ``run_containers=True``.

Tests that run flytekit's containers call :func:`require_flytekit` first: without flytekit they skip, except under
``CI=true``, where they must run and fail instead (flytekit is in the ``peer`` dependency group of the dev
environment).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

INSTALL_COMMAND = "uv sync --group peer"
PEERLESS_LEG = "airflow-min"
"""The value of ``FLYTE_TEST_LEG`` in the minimum-Airflow leg of ``scripts/dev.py test``: it installs no peers by
design (flytekit and the flyte SDK run with the main leg, where the same tests must run)."""


def missing_peer(tests: str, message: str) -> None:
    """Skip a test whose peer is missing; fail instead under ``CI=true``, except in the peerless leg.

    Args:
        tests: Which tests, for the failure ("the container tests").
        message: What is missing and how to install it.
    """
    ci = os.environ.get("CI", "").lower() == "true"
    if ci and os.environ.get("FLYTE_TEST_LEG") != PEERLESS_LEG:
        pytest.fail(f"{tests} must run in CI, but {message}")
    pytest.skip(message)


def require_flytekit() -> None:
    """Skip the test when flytekit cannot run task containers here; fail instead under ``CI=true``."""
    from flyte_admin_sandbox.containers import flytekit_available

    if flytekit_available():
        return
    missing_peer(
        "the container tests", f"flytekit is not installed next to the sandbox; install it with: {INSTALL_COMMAND}"
    )


def pyflyte_package(project: Path, package: str, output: Path, *, fast: bool) -> subprocess.Popen[str]:
    """Start ``pyflyte --pkgs <package> package [--fast]`` in ``project``, writing the archive ``output``.

    The command is flytekit's own (next to this interpreter), so the archive is flytekit's, not ours; wait for the
    returned process with :func:`finish_package`.
    """
    pyflyte = Path(sys.executable).parent / "pyflyte"
    command = [str(pyflyte), "--pkgs", package, "package", "--output", str(output), "--force"]
    if fast:
        command.append("--fast")
    environment = {name: value for name, value in os.environ.items() if not name.startswith("FLYTE")}
    return subprocess.Popen(
        command, cwd=project, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def finish_package(process: subprocess.Popen[str], output: Path, timeout: float = 120.0) -> Path:
    """Wait for a :func:`pyflyte_package` process; fail with its output when it did not write the archive."""
    log, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, f"pyflyte package failed ({process.returncode}):\n{log}"
    assert output.is_file(), f"pyflyte package wrote no {output}:\n{log}"
    return output


@contextlib.contextmanager
def utc_time_zone() -> Iterator[None]:
    """Run with the process time zone set to UTC (flytekit reads and prints local times), then restore it."""
    previous = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = previous
        time.tzset()
