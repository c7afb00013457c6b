"""``airflow-flyte demo``: run the example DAGs end to end on an embedded Flyte sandbox.

What happens, all on this machine and in a throw-away directory:

1. a Flyte sandbox (a local Flyte Admin that really runs the seeded ``flytesnacks`` workflows) starts on a free port,
   and next to it a Flyte 2 sandbox with the ``demo.summarize`` task deployed (when the ``flyte2`` extra is
   installed; without it ``example_flyte2`` is skipped);
2. a temporary ``AIRFLOW_HOME`` gets a SQLite metadata database (``airflow db migrate``), the example DAGs in its
   DAGs folder, and the ``flyte_default`` (and ``flyte2_default``, backend ``flyte2``) connections as
   ``AIRFLOW_CONN_*`` environment variables;
3. each example DAG runs with ``dag.test()``, deferrable operators included (their triggers run in-process);
4. a summary per task is printed: Airflow state, Flyte execution, the phases an observer saw it go through, outputs and
   console URL. The exit status is non-zero when a DAG run failed.

Airflow reads its configuration when first imported, so :func:`run_demo` must run in a process that has not imported
Airflow yet (the CLI is such a process). Nothing here is imported at module level beyond the standard library.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any

EXAMPLE_DAGS = Path(__file__).resolve().parent / "example_dags"
"""The example DAGs, shipped inside this package so that the demo runs from an installed wheel."""
DEMO_PROJECT = "flytesnacks"
DEMO_DOMAIN = "development"
NEEDS_A_PERSON_TAG = "human-in-the-loop"
"""Example DAGs with this tag wait for a person (FlyteApprovalOperator) and are not run by the demo."""
FLYTE2_TAG = "flyte2"
"""Example DAGs with this tag run on Flyte 2 (connection ``flyte2_default``); skipped without the ``flyte2`` extra."""
FLYTE2_CONNECTION = "flyte2_default"


def flyte2_available() -> bool:
    """Whether the Flyte 2 sandbox can run here (the ``flyte2`` extra of ``flyte-admin-sandbox`` is installed)."""
    return all(importlib.util.find_spec(module) is not None for module in ("flyteidl2", "connectrpc", "uvicorn"))


def run_demo(keep_home: bool = False, dags_folder: Path | None = None) -> int:
    """Run every example DAG on an embedded sandbox and print a summary per task.

    Args:
        keep_home: Keep the temporary ``AIRFLOW_HOME`` (its path is printed) instead of deleting it.
        dags_folder: Where the example DAG files are (default: the ones shipped with this package).

    Returns:
        The process exit status: 0 when every DAG run succeeded, 1 otherwise.
    """
    source = dags_folder or EXAMPLE_DAGS
    dag_files = sorted(source.glob("*.py")) if source.is_dir() else []
    if not dag_files:
        print(f"No example DAGs found in {source}.", file=sys.stderr)
        return 2
    if "airflow.configuration" in sys.modules:
        print("run_demo() must run before Airflow is imported in this process.", file=sys.stderr)
        return 2

    _quiet_third_party_noise()
    from flyte_admin_sandbox import FlyteSandbox

    home = Path(tempfile.mkdtemp(prefix="airflow-flyte-demo-"))
    try:
        with FlyteSandbox(port=0) as sandbox, contextlib.ExitStack() as flyte2:
            _prepare_airflow_home(home, dag_files, sandbox.endpoint, sandbox.console_endpoint)
            with_flyte2 = flyte2_available()
            if with_flyte2:
                _start_flyte2_sandbox(flyte2)
            observer = _PhaseObserver(sandbox.config)
            observer.start()
            try:
                outcomes = _run_dags(home / "dags", with_flyte2)
            finally:
                observer.stop()
            _print_summary(outcomes, observer.phases)
        return 0 if all(outcome["state"] == "success" for outcome in outcomes) else 1
    finally:
        if keep_home:
            print(f"AIRFLOW_HOME kept at {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)


def _quiet_third_party_noise() -> None:
    """Silence what other libraries print in a successful demo run; this harness is the only place that does so.

    * gRPC's C core logs an INFO line per open connection ("Got goaway") when the embedded sandbox stops at the end;
      ``GRPC_VERBOSITY`` is read when grpc loads, which has not happened yet in this process.
    * ``dag.test()`` runs Airflow's execution API in-process through Starlette's test client, which warns that it
      prefers another HTTP library (``StarletteDeprecationWarning``): nothing a demo user can act on.
    """
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient` is deprecated")


def _prepare_airflow_home(home: Path, dag_files: list[Path], endpoint: str, console_endpoint: str) -> None:
    dags = home / "dags"
    dags.mkdir(parents=True)
    for path in dag_files:
        shutil.copy(path, dags / path.name)
    host, port = endpoint.rsplit(":", 1)
    connection = {
        "conn_type": "flyte",
        "host": host,
        "port": int(port),
        "extra": {
            "project": DEMO_PROJECT,
            "domain": DEMO_DOMAIN,
            "insecure": True,
            "console_endpoint": console_endpoint,
        },
    }
    os.environ.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": os.environ.get("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING"),
            "AIRFLOW_CONN_FLYTE_DEFAULT": json.dumps(connection),
        }
    )
    print(f"Flyte sandbox on {endpoint}, its console at {console_endpoint}/console", flush=True)
    print(f"AIRFLOW_HOME={home}; migrating the metadata database...", flush=True)
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _start_flyte2_sandbox(stack: contextlib.ExitStack) -> None:
    """Start a Flyte 2 sandbox (closed with ``stack``), deploy ``demo.summarize`` and set ``flyte2_default``."""
    from flyte_admin_sandbox.airflow_deployment import flyte2_sandbox_connection
    from flyte_admin_sandbox.v2 import Flyte2Sandbox
    from flyte_admin_sandbox.v2.demo import deploy_demo_task

    sandbox = stack.enter_context(Flyte2Sandbox())
    deploy_demo_task(sandbox, duration=1.0)
    connection = flyte2_sandbox_connection(sandbox, project=DEMO_PROJECT, domain=DEMO_DOMAIN)
    os.environ[f"AIRFLOW_CONN_{FLYTE2_CONNECTION.upper()}"] = json.dumps(connection)
    print(f"Flyte 2 sandbox on {sandbox.grpc_endpoint}, its console at {sandbox.console_endpoint}", flush=True)


def _run_dags(dags_folder: Path, with_flyte2: bool = True) -> list[dict[str, Any]]:
    """``dag.test()`` each DAG of the folder (the Flyte 2 ones only ``with_flyte2``); one outcome per task instance."""
    dags = _load_dags(dags_folder)
    if not dags:
        print(f"No DAG found in {dags_folder}", file=sys.stderr)
        raise SystemExit(1)
    outcomes: list[dict[str, Any]] = []
    for dag_id, dag in sorted(dags.items()):
        if NEEDS_A_PERSON_TAG in dag.tags:
            # dag.test() would wait for an answer in Airflow's "Required actions" page that nobody gives.
            print(f"Skipping DAG {dag_id}: it waits for a person's answer (tag {NEEDS_A_PERSON_TAG!r})", flush=True)
            continue
        if FLYTE2_TAG in dag.tags and not with_flyte2:
            print(f"Skipping DAG {dag_id}: Flyte 2 needs the flyte2 extra (flyte-admin-sandbox[flyte2])", flush=True)
            continue
        print(f"Running DAG {dag_id} ...", flush=True)
        run = dag.test()
        for ti in sorted(run.get_task_instances(), key=lambda ti: (ti.task_id, ti.map_index)):
            outcomes.append(
                {
                    "dag_id": dag_id,
                    "task_id": ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]",
                    "state": str(ti.state.value if hasattr(ti.state, "value") else ti.state),
                    "operator": type(dag.get_task(ti.task_id)).__name__,
                    "result": _xcom_result(dag_id, run.run_id, ti.task_id, ti.map_index),
                }
            )
    return outcomes


def _load_dags(dags_folder: Path) -> dict[str, Any]:
    """The DAGs defined by the files of ``dags_folder``, by id (parsed as the DAG processor does).

    Raises:
        SystemExit: when a file fails to import.
    """
    try:
        from airflow.dag_processing.dagbag import DagBag  # Airflow 3.2+
    except ImportError:
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]

    bag = DagBag(dag_folder=str(dags_folder))
    if bag.import_errors:
        for path, error in bag.import_errors.items():
            print(f"Cannot import {path}:\n{error}", file=sys.stderr)
        raise SystemExit(1)
    return dict(bag.dags)


def _xcom_result(dag_id: str, run_id: str, task_id: str, map_index: int) -> Any:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = (
            session.query(XComModel.value)
            .filter_by(dag_id=dag_id, run_id=run_id, task_id=task_id, map_index=map_index, key="return_value")
            .first()
        )
    if row is None or row[0] is None:
        return None
    value = row[0]
    if isinstance(value, (str, bytes)):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class _PhaseObserver:
    """Record the phases of every demo-project execution, polling the sandbox from a thread."""

    def __init__(self, config: Any) -> None:
        self._config = config
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="flyte-demo-observer", daemon=True)
        self.phases: dict[str, list[str]] = defaultdict(list)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self._poll()  # the final phases

    def _loop(self) -> None:
        while not self._stop.wait(0.05):
            self._poll()

    def _poll(self) -> None:
        from airflow_provider_flyte.clients.friendly import SynchronousFlyteClient
        from airflow_provider_flyte.remote.executions import WORKFLOW_PHASES, phase_name

        with SynchronousFlyteClient(self._config) as client:
            for execution in client.iter_executions(DEMO_PROJECT, DEMO_DOMAIN):
                seen = self.phases[execution.id.name]
                phase = phase_name(WORKFLOW_PHASES, int(execution.closure.phase))
                if not seen or seen[-1] != phase:
                    seen.append(phase)


def _print_summary(outcomes: list[dict[str, Any]], phases: dict[str, list[str]]) -> None:
    print("\n=== Demo summary ===")
    for outcome in outcomes:
        print(f"\n{outcome['dag_id']}.{outcome['task_id']}: {outcome['state']}")
        for label, value in _summary_lines(outcome, phases):
            print(f"  {label + ':':<13}{value}")


def _summary_lines(outcome: dict[str, Any], phases: dict[str, list[str]]) -> list[tuple[str, str]]:
    """What one task did, the final phase of its Flyte execution, its outputs and its console link."""
    result = outcome["result"]
    if not isinstance(result, dict) or "execution_id" not in result:
        return [] if result is None else [("returned", _short(result))]
    execution_id = result.get("execution_id")
    name = str(execution_id or "").rsplit(":", 1)[-1]
    seen = phases.get(name, [])
    lines = [("did", _what_it_did(outcome["operator"], result))]
    if execution_id:
        lines.append(("run" if result.get("backend") == "flyte2" else "execution", str(execution_id)))
        lines.append(("final phase", str(result.get("phase") or (seen[-1] if seen else "unknown"))))
    if result.get("outputs") is not None:
        lines.append(("outputs", _short(result["outputs"])))
    lines.append(("console", str(result.get("console_url"))))
    return lines


def _what_it_did(operator: str, result: dict[str, Any]) -> str:
    """One phrase per provider operator, from the result it returned."""
    if operator == "FlyteBackfillOperator":
        runs = len((result.get("plan") or {}).get("scheduled_times") or result.get("children") or [])
        if result.get("dry_run"):
            return f"planned a backfill of {runs} run(s) (dry run, nothing launched)"
        finished = sum(child.get("phase") == "SUCCEEDED" for child in result.get("children") or [])
        return f"backfilled {len(result.get('children') or [])} run(s), {finished} succeeded"
    if operator == "FlyteSignalOperator":
        verb = {"approve": "approved", "reject": "rejected"}.get(str(result.get("action")), "set")
        return f"{verb} signal {result.get('signal_id')!r} ({result.get('kind')} gate)"
    if operator == "FlyteSignalSensor":
        return f"waited until signal {result.get('signal_id')!r} ({result.get('kind')} gate) was pending"
    if operator == "FlyteExecutionSensor":
        return "watched an execution until it finished"
    if result.get("backend") == "flyte2":
        return "launched a Flyte 2 task run and waited for it"
    return "launched an execution and waited for it"


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 300 else text[:297] + "..."
