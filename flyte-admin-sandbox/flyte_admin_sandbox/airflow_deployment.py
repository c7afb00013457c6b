"""A real Airflow 3 deployment on this machine: API server, scheduler, DAG processor and triggerer as child processes.

:class:`AirflowDeployment` is what ``airflow-flyte demo --ui`` runs and what the live tests run against: the services
of a production deployment, each its own process (and process group), sharing one ``AIRFLOW_HOME`` with a SQLite
metadata database, the LocalExecutor and the simple auth manager with everyone an admin (no login). DAG runs go the
way they go in production: the scheduler queues a task, the LocalExecutor runs it through the execution API, a
deferred task's trigger is picked up by the separate triggerer process.

The caller talks to it as users and other systems do, through the REST API (:meth:`AirflowDeployment.get` and the
helpers next to it) or the ``airflow`` command line (:meth:`AirflowDeployment.airflow`); this module never imports
Airflow. POSIX only (process groups).

    with FlyteSandbox(port=0) as sandbox, AirflowDeployment(
        dag_files=[...], connections={"flyte_default": sandbox_connection(sandbox)}
    ) as airflow:
        airflow.wait_until_ready(dag_ids=["example_flyte_pipeline"])
        run_id = airflow.trigger("example_flyte_pipeline")
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

if TYPE_CHECKING:
    from flyte_admin_sandbox.server import FlyteSandbox
    from flyte_admin_sandbox.v2.server import Flyte2Sandbox

__all__ = [
    "SERVICES",
    "AirflowDeployment",
    "ApiError",
    "DeploymentCancelled",
    "DeploymentError",
    "flyte2_sandbox_connection",
    "flyte_connection",
    "free_port",
    "sandbox_connection",
]

T = TypeVar("T")

SERVICES = ("api-server", "scheduler", "dag-processor", "triggerer")
"""The ``airflow`` subcommands started, one process (group) each."""
HEALTHY_COMPONENTS = ("metadatabase", "scheduler", "triggerer", "dag_processor")
"""What ``/api/v2/monitor/health`` must report healthy before the deployment counts as ready."""
STARTUP_SECONDS = 240.0
"""Default limit of :meth:`AirflowDeployment.wait_until_ready` (about a minute is usual on two cores)."""
STOP_GRACE_SECONDS = 30.0
"""How long the services get to exit after SIGTERM before their process groups are killed."""
LOG_TAIL_CHARS = 4000


class DeploymentError(RuntimeError):
    """The deployment failed: a service exited, a wait ran out, a command or an API call failed.

    Attributes:
        log_tails: The end of every service's log when the error was raised (also part of ``str(error)``).
    """

    def __init__(self, message: str, log_tails: str = "") -> None:
        super().__init__(f"{message}\n{log_tails}" if log_tails else message)
        self.message = message
        self.log_tails = log_tails


class DeploymentCancelled(DeploymentError):
    """A wait gave up because :attr:`AirflowDeployment.cancel` was set (the caller is shutting down)."""


class ApiError(DeploymentError):
    """A REST API call answered with an error status.

    Attributes:
        status_code: The HTTP status of the answer.
        body: The answer's text.
    """

    def __init__(self, message: str, status_code: int, body: str, log_tails: str = "") -> None:
        super().__init__(message, log_tails)
        self.status_code = status_code
        self.body = body


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def flyte_connection(
    endpoint: str,
    *,
    console_endpoint: str | None = None,
    project: str = "flytesnacks",
    domain: str = "development",
    insecure: bool = True,
) -> dict[str, Any]:
    """A ``flyte`` connection to the Flyte Admin at ``endpoint`` (``host:port``), as a JSON-able dict.

    The shape is that of a JSON ``AIRFLOW_CONN_*`` variable (``extra`` a dict); :meth:`AirflowDeployment.put_connection`
    turns it into the REST API's.

    Args:
        endpoint: ``host:port`` of Flyte Admin's gRPC API.
        console_endpoint: Base URL of the Flyte Console the "Flyte Console" links open (the ``console_endpoint``
            extra); left out when ``None``.
        project: The ``project`` extra.
        domain: The ``domain`` extra.
        insecure: The ``insecure`` extra (plain-text gRPC).
    """
    host, port = endpoint.rsplit(":", 1)
    extra: dict[str, Any] = {"project": project, "domain": domain, "insecure": insecure}
    if console_endpoint:
        extra["console_endpoint"] = console_endpoint
    return {"conn_type": "flyte", "host": host, "port": int(port), "extra": extra}


def sandbox_connection(
    sandbox: FlyteSandbox, *, project: str = "flytesnacks", domain: str = "development"
) -> dict[str, Any]:
    """The :func:`flyte_connection` to a started sandbox, its console included (links open the sandbox's pages)."""
    return flyte_connection(
        sandbox.endpoint,
        console_endpoint=sandbox.console_endpoint,
        project=project,
        domain=domain,
        insecure=not sandbox.tls,
    )


def flyte2_sandbox_connection(
    sandbox: Flyte2Sandbox, *, project: str = "flytesnacks", domain: str = "development"
) -> dict[str, Any]:
    """The :func:`flyte_connection` to a started Flyte 2 sandbox (``backend`` ``flyte2``, its gRPC port and console)."""
    connection = flyte_connection(
        sandbox.grpc_endpoint, console_endpoint=sandbox.connect_endpoint, project=project, domain=domain
    )
    connection["extra"]["backend"] = "flyte2"
    return connection


class AirflowDeployment:
    """Airflow's services as child processes sharing one ``AIRFLOW_HOME`` (SQLite, LocalExecutor, no login).

    Use it as a context manager, or call :meth:`start` and later :meth:`stop` (which always cleans up).

    Args:
        dag_files: DAG files copied into the DAGs folder (``<home>/dags``).
        port: The API server's port (UI, REST and execution API); ``0`` picks a free one.
        host: The interface the API server binds.
        home: The ``AIRFLOW_HOME``; a new temporary folder when ``None``, removed by :meth:`stop` unless ``keep_home``.
            A given folder is never removed.
        keep_home: Keep the temporary ``AIRFLOW_HOME`` after :meth:`stop`.
        connections: Connections given as ``AIRFLOW_CONN_<ID>`` environment variables (id -> the dict
            :func:`flyte_connection` returns). They work in tasks but the UI's Connections page does not list them;
            :meth:`put_connection` stores one in the metadata database instead.
        extra_env: More environment variables of every service, applied last.
        paused_at_creation: Whether new DAGs start paused (Airflow's default); ``False`` lets tests trigger at once.
        python: The interpreter that runs ``-m airflow``.

    Attributes:
        home: The ``AIRFLOW_HOME``.
        port: The API server's port.
        url: The base URL of the UI and the APIs.
        api: An ``httpx`` client on :attr:`url` (paths such as ``/api/v2/dags``).
        env: The environment of every ``airflow`` process.
        cancel: Set it (from a signal handler, another thread) to make a running :meth:`wait_for` or
            :meth:`wait_until_ready` give up at once with :class:`DeploymentCancelled`.
    """

    def __init__(
        self,
        *,
        dag_files: Iterable[str | Path] = (),
        port: int = 0,
        host: str = "127.0.0.1",
        home: str | Path | None = None,
        keep_home: bool = False,
        connections: Mapping[str, Mapping[str, Any]] | None = None,
        extra_env: Mapping[str, str] | None = None,
        paused_at_creation: bool = False,
        python: str = sys.executable,
    ) -> None:
        self._temporary_home = home is None
        self.home = Path(tempfile.mkdtemp(prefix="airflow-deployment-")) if home is None else Path(home).resolve()
        self.keep_home = keep_home
        self.dag_files = [Path(path) for path in dag_files]
        self.host = host
        self.port = port or free_port(host)
        self.url = f"http://{host}:{self.port}"
        self.python = python
        self.api = httpx.Client(base_url=self.url, timeout=30)
        self.env = self._environment(connections or {}, extra_env or {}, paused_at_creation)
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.cancel = threading.Event()
        self._stopped = False

    def _environment(
        self, connections: Mapping[str, Mapping[str, Any]], extra_env: Mapping[str, str], paused_at_creation: bool
    ) -> dict[str, str]:
        env = {name: value for name, value in os.environ.items() if not name.startswith("AIRFLOW")}
        env.update(
            {
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.home / "dags"),
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.home / 'airflow.db'}",
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "AIRFLOW__CORE__PARALLELISM": "4",
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": str(paused_at_creation),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
                # The UI's "Test" button on the connection form (disabled by default).
                "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
                "AIRFLOW__API__PORT": str(self.port),
                "AIRFLOW__API__HOST": self.host,
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
                "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "1",
            }
        )
        for conn_id, connection in connections.items():
            env[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(dict(connection))
        env.update(extra_env)
        return env

    # Lifecycle -----------------------------------------------------------------------------------------------------

    def start(self) -> AirflowDeployment:
        """Prepare the home (DAG files, ``airflow db migrate``) and start the services; returns ``self``.

        Returns at once: :meth:`wait_until_ready` waits until they answer.

        Raises:
            DeploymentError: when the database migration fails (the services are then not started).
            DeploymentCancelled: when :attr:`cancel` was set during the migration.
        """
        dags = self.home / "dags"
        dags.mkdir(parents=True, exist_ok=True)
        for dag_file in self.dag_files:
            shutil.copy(dag_file, dags / dag_file.name)
        self.airflow("db", "migrate")
        if self.cancel.is_set():
            raise DeploymentCancelled("cancelled before the services started")
        for service in SERVICES:
            with (self.home / f"{service}.log").open("ab") as log:
                self.processes[service] = subprocess.Popen(
                    [self.python, "-m", "airflow", service],
                    env=self.env,
                    cwd=self.home,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group: stop() ends its workers and children too
                )
        return self

    def wait_until_ready(self, *, dag_ids: Iterable[str] = (), timeout: float = STARTUP_SECONDS) -> None:
        """Wait until the API answers, every service reports healthy and the DAGs ``dag_ids`` are parsed.

        Raises:
            DeploymentCancelled: when :attr:`cancel` is set meanwhile.
            DeploymentError: when a service exits, a DAG file fails to import or ``timeout`` seconds pass first.
        """
        deadline = time.monotonic() + timeout
        self.wait_for("the services to report healthy", self.healthy, timeout)
        for dag_id in dag_ids:
            self.wait_for(
                f"DAG {dag_id} to be parsed",
                functools.partial(self.has_dag, dag_id),
                max(deadline - time.monotonic(), 1.0),
            )

    def has_dag(self, dag_id: str) -> bool:
        """Whether the DAG processor has parsed the DAG ``dag_id`` (the API knows it).

        Raises:
            DeploymentError: when, instead, a DAG file failed to import (the error included).
        """
        if self.api.get(f"/api/v2/dags/{dag_id}").is_success:
            return True
        errors = self.get("/importErrors")["import_errors"]
        if errors:
            details = "\n".join(f"{error['filename']}:\n{error['stack_trace']}" for error in errors)
            raise DeploymentError(f"DAG {dag_id} is not there and DAG files failed to import:\n{details}")
        return False

    def healthy(self) -> bool:
        """Whether ``/api/v2/monitor/health`` answers with every component healthy."""
        response = self.api.get("/api/v2/monitor/health")
        if not response.is_success:
            return False
        report = response.json()
        return all((report.get(component) or {}).get("status") == "healthy" for component in HEALTHY_COMPONENTS)

    def stop(self) -> None:
        """Stop every service and whatever it started (SIGTERM to each process group, SIGKILL after a grace period).

        Then closes :attr:`api` and removes a temporary home unless kept. Safe to call more than once.
        """
        if self._stopped:
            return
        self._stopped = True
        try:
            self._end_process_groups()
        finally:
            self.api.close()
            if self._temporary_home and not self.keep_home:
                shutil.rmtree(self.home, ignore_errors=True)

    def _end_process_groups(self) -> None:
        for process in self.processes.values():
            _signal_group(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        for process in self.processes.values():
            # Also when the leader is gone: a task or worker it started may still be in its group.
            _signal_group(process.pid, signal.SIGKILL)
            process.wait()

    def __enter__(self) -> AirflowDeployment:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    # Health and waiting ----------------------------------------------------------------------------------------

    def logs(self, tail: int = LOG_TAIL_CHARS) -> str:
        """The last ``tail`` characters of every service's log, each under a header."""
        parts = []
        for service in SERVICES:
            path = self.home / f"{service}.log"
            text = path.read_text(errors="replace")[-tail:] if path.exists() else "(no log)"
            parts.append(f"----- {service} -----\n{text}")
        return "\n".join(parts)

    def check_alive(self) -> None:
        """Raise unless every started service is still running.

        Raises:
            DeploymentError: naming the first service found dead and its exit status.
        """
        for service, process in self.processes.items():
            if process.poll() is not None:
                raise DeploymentError(f"airflow {service} exited with status {process.returncode}", self.logs())

    def wait_for(self, what: str, ready: Callable[[], T | None], timeout: float, *, interval: float = 0.5) -> T:
        """Call ``ready()`` until it returns something truthy, and return that.

        A connection error of the API counts as "not yet".

        Raises:
            DeploymentCancelled: when :attr:`cancel` is set.
            DeploymentError: when a service exits, or ``timeout`` seconds pass, naming ``what``.
        """
        deadline = time.monotonic() + timeout
        while True:
            if self.cancel.is_set():
                raise DeploymentCancelled(f"stopped waiting for {what}: cancelled")
            self.check_alive()
            try:
                value = ready()
            except httpx.TransportError:
                value = None
            if value:
                return value
            if time.monotonic() > deadline:
                raise DeploymentError(f"gave up waiting for {what} after {timeout:g}s", self.logs())
            self.cancel.wait(interval)

    # The command line and the REST API -----------------------------------------------------------------------------

    def airflow(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ``airflow <args>`` in the deployment's environment and return what it printed.

        Raises:
            DeploymentError: when the command fails (its output included).
        """
        completed = subprocess.run(
            [self.python, "-m", "airflow", *args],
            env=self.env,
            cwd=self.home,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
        )
        if completed.returncode != 0:
            output = f"{completed.stdout}\n{completed.stderr}".strip()[-LOG_TAIL_CHARS:]
            raise DeploymentError(f"airflow {' '.join(args)} failed with status {completed.returncode}:\n{output}")
        return completed

    def request(self, method: str, path: str, json_body: Any = None) -> Any:
        """Call the REST API (``path`` under ``/api/v2``) and return the decoded JSON answer (``None`` when empty).

        Raises:
            ApiError: when the answer's status is an error.
        """
        response = self.api.request(method, f"/api/v2{path}", json=json_body)
        if not response.is_success:
            raise ApiError(
                f"{method} /api/v2{path} answered {response.status_code}: {response.text[:2000]}",
                response.status_code,
                response.text,
            )
        return response.json() if response.content else None

    def get(self, path: str) -> Any:
        """``GET /api/v2<path>``: the decoded JSON answer (see :meth:`request`)."""
        return self.request("GET", path)

    def trigger(self, dag_id: str, conf: Mapping[str, Any] | None = None) -> str:
        """Start a manual DAG run (no logical date) and return its run id."""
        answer = self.request("POST", f"/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": dict(conf or {})})
        return str(answer["dag_run_id"])

    def run_state(self, dag_id: str, run_id: str) -> str:
        """The state of a DAG run (``queued``, ``running``, ``success``, ``failed``)."""
        return str(self.get(f"/dags/{dag_id}/dagRuns/{run_id}")["state"])

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float) -> str:
        """Wait until a DAG run has finished and return its final state (``success`` or ``failed``).

        Raises:
            DeploymentError: when a service exits or ``timeout`` seconds pass first.
        """

        def finished() -> str | None:
            state = self.run_state(dag_id, run_id)
            return state if state in ("success", "failed") else None

        return self.wait_for(f"DAG run {dag_id} {run_id} to finish", finished, timeout)

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        """The state of each task instance of a DAG run, by task id (``task_id[i]`` for map index ``i``)."""
        instances = self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]
        return {_instance_key(ti["task_id"], ti.get("map_index", -1)): ti["state"] for ti in instances}

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
        """The value of one XCom entry of a task instance."""
        return self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}")["value"]

    def set_paused(self, dag_id: str, paused: bool) -> None:
        """Pause or unpause a DAG."""
        self.request("PATCH", f"/dags/{dag_id}", {"is_paused": paused})

    def put_connection(self, conn_id: str, connection: Mapping[str, Any]) -> None:
        """Create or replace a connection in the metadata database (listed on the UI's Connections page).

        Args:
            conn_id: The connection id.
            connection: As :func:`flyte_connection` returns it (``extra`` a dict or a JSON string).
        """
        body = {key: value for key, value in connection.items() if key != "extra"}
        extra = connection.get("extra")
        if extra is not None:
            body["extra"] = extra if isinstance(extra, str) else json.dumps(extra)
        body["connection_id"] = conn_id
        try:
            self.request("POST", "/connections", body)
        except ApiError as error:
            if error.status_code != 409:
                raise
            self.request("PATCH", f"/connections/{conn_id}", body)

    # What the services wrote -----------------------------------------------------------------------------------

    def trigger_log(self, dag_id: str, run_id: str, task_id: str) -> str:
        """What the triggerer logged for a task's triggers (Airflow writes it next to the task's log)."""
        folder = self.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
        return "".join(path.read_text(errors="replace") for path in sorted(folder.glob("*.trigger.*")))

    def task_logs(self, dag_id: str, run_id: str, tail: int = LOG_TAIL_CHARS) -> str:
        """The last ``tail`` characters of every task (and trigger) log of a DAG run, each under its path."""
        folder = self.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}"
        paths = sorted(folder.rglob("*.log*")) if folder.exists() else []
        return "\n".join(
            f"----- {path.relative_to(folder)} -----\n{path.read_text(errors='replace')[-tail:]}" for path in paths
        )

    def parked(self, dag_id: str, run_id: str, task_id: str) -> bool:
        """Whether the scheduler has seen a HITL task's worker finish with the task parked.

        Parked is ``awaiting_input`` on Airflow 3.3+, ``deferred`` before. An answer that arrives earlier (a machine
        answers within a second, a person does not) races Airflow 3.3: given while the task still runs (the question
        is written just before the task parks), it is recorded but never resumes the task; given after the task
        parked but before the scheduler processed the worker's end, the task is queued again too early and the
        scheduler fails it ("finished with state success, but the task instance's state attribute is queued").
        """
        marker = f"task_id={task_id}, run_id={run_id},"
        path = self.home / "scheduler.log"
        log = path.read_text(errors="replace") if path.exists() else ""
        states = ("state=awaiting_input", "state=deferred")
        return any(marker in line and any(state in line for state in states) for line in log.splitlines())

    def __repr__(self) -> str:
        return f"AirflowDeployment(url={self.url!r}, home={str(self.home)!r})"


def _instance_key(task_id: str, map_index: int) -> str:
    return task_id if map_index < 0 else f"{task_id}[{map_index}]"


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    """Send ``signum`` to a process group that may be gone already."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)
