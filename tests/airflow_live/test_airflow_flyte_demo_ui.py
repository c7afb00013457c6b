"""``airflow-flyte demo --ui`` as a person runs it: a command that serves Airflow and a sandbox until Ctrl+C.

Starts its own deployment (through the command), so this module's name sorts first in the folder: it is done before
the folder's shared deployment starts (``conftest.py``).
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import httpx
import pytest
from flyte_admin_sandbox.demo import EXAMPLE_DAGS

from tests.support.processes import descendants, survivors

pytestmark = [pytest.mark.live, pytest.mark.timeout(600)]

STARTUP_SECONDS = 360.0
STOP_SECONDS = 120.0
READY_LINE = "Press Ctrl+C to stop."


def airflow_flyte() -> list[str]:
    """The installed ``airflow-flyte`` console script (next to this interpreter), else the module."""
    script = Path(sys.executable).with_name("airflow-flyte")
    if script.exists():
        return [str(script)]
    found = shutil.which("airflow-flyte")
    return [found] if found else [sys.executable, "-m", "flyte_admin_sandbox.cli"]


class Output:
    """The lines a process prints, collected by a thread so that waiting for one never blocks on the pipe."""

    def __init__(self, stream: IO[str]) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def until(self, wanted: str, timeout: float) -> list[str]:
        """Collect lines until one equals ``wanted``; fail when the stream ends or ``timeout`` passes first."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._queue.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                raise AssertionError(f"no {wanted!r} after {timeout:g}s; printed:\n" + "\n".join(self.lines)) from None
            if line is None:
                raise AssertionError(f"the output ended before {wanted!r}; printed:\n" + "\n".join(self.lines))
            self.lines.append(line)
            if line.strip() == wanted:
                return self.lines

    def rest(self, timeout: float) -> list[str]:
        """Every line until the stream ends (the process exited)."""
        self._thread.join(timeout)
        while not self._queue.empty():
            line = self._queue.get()
            if line is not None:
                self.lines.append(line)
        return self.lines


def printed(lines: list[str], label: str) -> str:
    """The value of a ``label: value`` line of the ready message."""
    for line in lines:
        if line.strip().startswith(f"{label}:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"no {label!r} line in:\n" + "\n".join(lines))


@pytest.fixture
def demo_ui(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Output, Path]]:
    errors = tmp_path / "stderr.txt"
    with errors.open("w") as stderr:
        process = subprocess.Popen(
            [*airflow_flyte(), "demo", "--ui"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env={name: value for name, value in os.environ.items() if not name.startswith("AIRFLOW")},
        )
    assert process.stdout is not None
    try:
        yield process, Output(process.stdout), errors
    finally:
        if process.poll() is None:  # the test failed before stopping it: leave nothing running
            children = descendants(process.pid)
            process.send_signal(signal.SIGINT)
            try:
                process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            for pid in survivors(set(children), set(children.values())):
                os.kill(pid, signal.SIGKILL)


def test_demo_ui_serves_airflow_and_the_sandbox_until_ctrl_c_and_leaves_nothing_running(
    demo_ui: tuple[subprocess.Popen[str], Output, Path],
) -> None:
    process, output, errors = demo_ui
    lines = output.until(READY_LINE, STARTUP_SECONDS)
    airflow_url = printed(lines, "Airflow UI")
    endpoint = printed(lines, "Flyte Admin (gRPC)")
    console_url = printed(lines, "Flyte console")
    home = Path(printed(lines, "AIRFLOW_HOME"))
    assert home.is_dir()

    with httpx.Client(base_url=airflow_url, timeout=30) as api:
        health = api.get("/api/v2/monitor/health")
        assert health.is_success, health.text
        assert health.json()["scheduler"]["status"] == "healthy", health.json()
        dags = {dag["dag_id"]: dag for dag in api.get("/api/v2/dags", params={"limit": 100}).json()["dags"]}
        examples = {path.stem for path in EXAMPLE_DAGS.glob("*.py")}
        assert set(dags) == examples
        assert not [dag_id for dag_id, dag in dags.items() if dag["is_paused"]], dags
        # A real connection in the metadata database (the Connections page lists it), console included.
        connection = api.get("/api/v2/connections/flyte_default")
        assert connection.is_success, connection.text
        stored = connection.json()
        assert (stored["conn_type"], f"{stored['host']}:{stored['port']}") == ("flyte", endpoint), stored
        assert f'"console_endpoint": "{console_url.removesuffix("/console")}"' in stored["extra"], stored
    console = httpx.get(console_url, timeout=30, follow_redirects=True)
    assert console.is_success, console.text
    assert "text/html" in console.headers["content-type"]

    children = descendants(process.pid)
    assert len(children) >= 4, children  # the four services, at least
    process.send_signal(signal.SIGINT)  # what Ctrl+C sends
    assert process.wait(STOP_SECONDS) == 0, errors.read_text()
    assert output.rest(10)[-1] == "Stopped.", output.lines
    assert "Traceback" not in errors.read_text(), errors.read_text()
    left = survivors(set(children), set(children.values()))
    assert not left, left
    assert not home.exists(), f"the temporary AIRFLOW_HOME {home} is still there"
