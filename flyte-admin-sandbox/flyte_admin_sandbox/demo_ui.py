"""``airflow-flyte demo --ui``: the example DAGs in a real Airflow, next to a Flyte sandbox, to click through.

What runs, all on this machine, until Ctrl+C (SIGINT), SIGTERM or SIGHUP:

1. a Flyte sandbox (a local Flyte Admin that really runs the seeded ``flytesnacks`` workflows) with its read-only
   console, and a Flyte 2 sandbox with ``demo.summarize`` deployed (with the ``flyte2`` extra);
2. a real Airflow deployment (:class:`~flyte_admin_sandbox.airflow_deployment.AirflowDeployment`: API server,
   scheduler, DAG processor and triggerer; SQLite; no login) in a temporary ``AIRFLOW_HOME`` unless one is given,
   with the example DAGs (:data:`~flyte_admin_sandbox.demo.EXAMPLE_DAGS`);
3. the ``flyte_default`` connection to the sandbox (and ``flyte2_default``, backend ``flyte2``, to the Flyte 2 one),
   stored in Airflow's database (so the Connections page lists it and its Test button works), console URL included,
   so "Flyte Console" links open the sandbox's pages;
4. the example DAGs unpaused (``example_flyte_backfill`` has a daily schedule, so it runs once right away).

Then it prints where everything is and waits. On the way out it stops every process it started and removes the
temporary ``AIRFLOW_HOME`` unless asked to keep it. Needs a process that has not imported Airflow (the CLI is one);
Airflow itself runs in child processes.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from flyte_admin_sandbox.airflow_deployment import (
    AirflowDeployment,
    DeploymentCancelled,
    DeploymentError,
    flyte2_sandbox_connection,
    sandbox_connection,
)
from flyte_admin_sandbox.demo import DEMO_DOMAIN, DEMO_PROJECT, EXAMPLE_DAGS, FLYTE2_CONNECTION, flyte2_available

__all__ = ["DEFAULT_AIRFLOW_PORT", "run_demo_ui"]

DEFAULT_AIRFLOW_PORT = 8080
"""Airflow's usual port, used when free (else a free one is picked)."""
CONNECTION_ID = "flyte_default"
_STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
_SIGNAL_POLL_SECONDS = 0.2


def run_demo_ui(
    *,
    port: int = 0,
    http_port: int = 0,
    airflow_port: int | None = None,
    airflow_home: Path | None = None,
    keep_home: bool = False,
    dags_folder: Path | None = None,
    out: TextIO = sys.stdout,
) -> int:
    """Run the sandbox and Airflow with the example DAGs until a stop signal, then stop everything.

    Args:
        port: The sandbox's gRPC port; ``0`` picks a free one.
        http_port: The sandbox's HTTP port (console, blob URLs); ``0`` picks a free one.
        airflow_port: The Airflow UI and API port; ``None``: 8080 when free, else a free one.
        airflow_home: The ``AIRFLOW_HOME`` to use and keep; a temporary one when ``None``.
        keep_home: Keep the temporary ``AIRFLOW_HOME`` (its path is printed) instead of deleting it.
        dags_folder: Where the DAG files are (default: the example DAGs shipped with this package).
        out: Where the messages for the person go.

    Returns:
        The process exit status: 0 after a stop signal, 1 when Airflow or the sandbox failed, 2 when there are no
        DAG files.
    """
    source = dags_folder or EXAMPLE_DAGS
    dag_files = sorted(source.glob("*.py")) if source.is_dir() else []
    if not dag_files:
        print(f"No example DAGs found in {source}.", file=sys.stderr)
        return 2
    stop = threading.Event()
    with _stop_signals_set(stop):
        try:
            return _run(dag_files, port, http_port, airflow_port, airflow_home, keep_home, stop, out)
        except DeploymentCancelled:
            _say(out, "Stopped before Airflow was ready.")
            return 0
        except DeploymentError as error:
            if stop.is_set():  # Ctrl+C also reached a command Airflow was running (airflow db migrate)
                _say(out, "Stopped before Airflow was ready.")
                return 0
            print(f"Airflow failed: {error}", file=sys.stderr)
            return 1


def _run(
    dag_files: list[Path],
    port: int,
    http_port: int,
    airflow_port: int | None,
    airflow_home: Path | None,
    keep_home: bool,
    stop: threading.Event,
    out: TextIO,
) -> int:
    from flyte_admin_sandbox import FlyteSandbox

    _say(out, "Starting the Flyte sandbox...")
    with FlyteSandbox(port=port, http_port=http_port) as sandbox, contextlib.ExitStack() as flyte2:
        _say(out, f"Flyte sandbox: Flyte Admin on {sandbox.endpoint}, console at {sandbox.console_endpoint}/console")
        flyte2_connection = _start_flyte2_sandbox(flyte2, out)
        deployment = AirflowDeployment(
            dag_files=dag_files,
            port=_airflow_port(airflow_port),
            home=airflow_home,
            keep_home=keep_home,
            paused_at_creation=True,  # unpaused below, once the connection exists
        )
        deployment.cancel = stop  # a stop signal during start-up ends the waits at once
        try:
            _say(out, f"Starting Airflow in {deployment.home} (API server, scheduler, DAG processor, triggerer)...")
            _say(out, "This takes about a minute.")
            deployment.start()
            dag_ids = [path.stem for path in dag_files]  # each example file defines the DAG named after it
            deployment.wait_until_ready(dag_ids=dag_ids)
            deployment.put_connection(
                CONNECTION_ID, sandbox_connection(sandbox, project=DEMO_PROJECT, domain=DEMO_DOMAIN)
            )
            if flyte2_connection is not None:
                deployment.put_connection(FLYTE2_CONNECTION, flyte2_connection)
            for dag_id in dag_ids:
                deployment.set_paused(dag_id, False)
            if flyte2_connection is not None:
                _say(out, f"Connection {FLYTE2_CONNECTION} (backend flyte2) points at the Flyte 2 sandbox.")
            _print_ready(out, deployment, sandbox.endpoint, f"{sandbox.console_endpoint}/console", dag_ids)
            while not stop.wait(_SIGNAL_POLL_SECONDS):
                deployment.check_alive()
            _say(out, "\nStopping Airflow and the Flyte sandbox...")
        finally:
            deployment.stop()
            if keep_home or airflow_home is not None:
                _say(out, f"AIRFLOW_HOME kept at {deployment.home}")
    _say(out, "Stopped.")
    return 0


def _start_flyte2_sandbox(stack: contextlib.ExitStack, out: TextIO) -> dict[str, Any] | None:
    """Start a Flyte 2 sandbox with ``demo.summarize`` (closed with ``stack``); its connection, or ``None``."""
    if not flyte2_available():
        _say(out, "No Flyte 2 sandbox: it needs the flyte2 extra (flyte-admin-sandbox[flyte2]).")
        return None
    from flyte_admin_sandbox.v2 import Flyte2Sandbox
    from flyte_admin_sandbox.v2.demo import deploy_demo_task

    sandbox = stack.enter_context(Flyte2Sandbox())
    deploy_demo_task(sandbox, duration=1.0)
    _say(out, f"Flyte 2 sandbox: gRPC on {sandbox.grpc_endpoint}, console at {sandbox.console_endpoint}")
    return flyte2_sandbox_connection(sandbox, project=DEMO_PROJECT, domain=DEMO_DOMAIN)


def _print_ready(out: TextIO, deployment: AirflowDeployment, endpoint: str, console: str, dag_ids: list[str]) -> None:
    lines = [
        "",
        "Ready.",
        f"  Airflow UI:         {deployment.url}",
        f"  Flyte Admin (gRPC): {endpoint}",
        f"  Flyte console:      {console}",
        f"  AIRFLOW_HOME:       {deployment.home}",
        f"  Connection:         {CONNECTION_ID} (Admin > Connections) -> {endpoint}, project {DEMO_PROJECT}, "
        f"domain {DEMO_DOMAIN}",
        f"  Example DAGs:       {', '.join(dag_ids)} (unpaused)",
        "",
        "Open the Airflow UI, trigger a DAG and follow its 'Flyte Console' link (task instance > Details).",
        "example_flyte_approval asks you in Browse > Required Actions.",
        "Press Ctrl+C to stop.",
    ]
    _say(out, "\n".join(lines))


def _airflow_port(requested: int | None) -> int:
    """``requested``, or 8080 when nothing listens there, or ``0`` (a free port)."""
    if requested is not None:
        return requested
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", DEFAULT_AIRFLOW_PORT))
        except OSError:
            return 0
    return DEFAULT_AIRFLOW_PORT


def _say(out: TextIO, text: str) -> None:
    print(text, file=out, flush=True)


@contextmanager
def _stop_signals_set(stop: threading.Event) -> Iterator[None]:
    """Make SIGINT, SIGTERM and SIGHUP set ``stop`` (instead of raising), restoring the old handlers after."""

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {signum: signal.signal(signum, handler) for signum in _STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
