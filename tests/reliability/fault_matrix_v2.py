"""The fault matrix on Flyte 2: the Flyte 2 wait and launch paths against a Flyte 2 sandbox that misbehaves.

The same rounds, trials and verdicts as :mod:`fault_matrix` (Flyte 1), on the ``reliability.nap`` task deployed to a
:class:`~flyte_admin_sandbox.v2.Flyte2Sandbox`: the synchronous FlyteOperator (launch, then poll on the worker) and
the deferrable FlyteOperator (launch, then :class:`~airflow_provider_flyte.triggers.flyte2.Flyte2RunTrigger` in an
event loop), both on a connection whose ``backend`` is ``flyte2``. Wait faults hit while every trial waits; launch
faults are in force on ``CreateRun`` while the trials launch. After a round every trial's line of run names
(:func:`~airflow_provider_flyte.operators._naming.run_name_for`) must hold exactly one run, and the path must have
reported its true outcome.

The Flyte 2 sandbox's faults (:attr:`Flyte2Sandbox.faults`, the Flyte 1 :class:`~flyte_admin_sandbox.faults.Faults`
applied by its dispatcher to both gRPC and Connect) cover failures, latency, commit-then-fail and late commits;
:meth:`Flyte2Sandbox.outage` takes both servers down (connections refused) with the engine kept running (a run ends
unseen) or stopped and resumed with the servers (a control plane restart), as the Flyte 1 matrix's outage kinds do.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import grpc
from fault_matrix import (
    DOMAIN,
    OUTAGE_TOLERANCE,
    POLL,
    PROJECT,
    RPC_TIMEOUT,
    TRIAL_LIMIT,
    Expected,
    FaultKind,
    TaskInstance,
    Trial,
    Verdict,
    _catching,
    _creates,
    _first_event,
    _outage,
    _report_operator,
    _slow_reads,
    _window,
)
from flyte_admin_sandbox.v2 import Flyte2Sandbox

NAP = "reliability.nap"
V2_READS = ("GetRunDetails", "WatchRunDetails", "ListRuns", "WatchRuns")
"""The reads a Flyte 2 wait makes, slowed by the slow-reads fault."""
CONNECTION = "flyte2_matrix"


def nap(seconds: float, fail: str) -> str:
    """What ``reliability.nap`` computes (the sandbox makes the run take ``seconds``): fail with ``fail`` if set."""
    if fail:
        raise ValueError(fail)
    return f"slept {seconds:g}s"


def deploy_nap_task(sandbox: Flyte2Sandbox) -> None:
    """Deploy ``reliability.nap`` (inputs ``seconds: float``, ``fail: str``; output ``o0: str``) as version v1."""
    from flyteidl2.core import identifier_pb2, interface_pb2, tasks_pb2, types_pb2
    from flyteidl2.task import task_definition_pb2, task_service_pb2

    from airflow_provider_flyte.clients.v2 import Flyte2Client

    def variables(**types: types_pb2.SimpleType) -> interface_pb2.VariableMap:
        return interface_pb2.VariableMap(
            variables=[
                interface_pb2.VariableEntry(
                    key=key, value=interface_pb2.Variable(type=types_pb2.LiteralType(simple=simple))
                )
                for key, simple in types.items()
            ]
        )

    template = tasks_pb2.TaskTemplate(
        id=identifier_pb2.Identifier(
            resource_type=identifier_pb2.TASK, project=PROJECT, domain=DOMAIN, name=NAP, version="v1"
        ),
        type="python",
        interface=interface_pb2.TypedInterface(
            inputs=variables(seconds=types_pb2.FLOAT, fail=types_pb2.STRING), outputs=variables(o0=types_pb2.STRING)
        ),
    )
    task_id = task_definition_pb2.TaskIdentifier(project=PROJECT, domain=DOMAIN, name=NAP, version="v1")
    request = task_service_pb2.DeployTaskRequest(
        task_id=task_id, spec=task_definition_pb2.TaskSpec(task_template=template, short_name="nap")
    )
    with Flyte2Client(sandbox.grpc_endpoint, insecure=True) as client:
        client.raw.task_service.DeployTask(request)


def connection_json(sandbox: Flyte2Sandbox) -> str:
    """The ``AIRFLOW_CONN_FLYTE2_MATRIX`` value the Flyte 2 paths use."""
    host, port = sandbox.grpc_endpoint.rsplit(":", 1)
    extra = {
        "insecure": True,
        "backend": "flyte2",
        "project": PROJECT,
        "domain": DOMAIN,
        "rpc_timeout": RPC_TIMEOUT,
        "outage_tolerance": OUTAGE_TOLERANCE,
    }
    return json.dumps({"conn_type": "flyte", "host": host, "port": int(port), "extra": extra})


# ---------------------------------------------------------------------------------------------------- paths


def _operator(trial: Trial, deferrable: bool) -> Any:
    from airflow_provider_flyte.operators.flyte import FlyteOperator

    class SignallingOperator(FlyteOperator):
        """Tells the round when its run exists (the operator starts following it; the wait comes next)."""

        @property
        def _flyte2_run(self) -> str | None:
            return self.__dict__.get("_followed_run")

        @_flyte2_run.setter
        def _flyte2_run(self, value: str | None) -> None:
            self.__dict__["_followed_run"] = value
            if value is not None and not deferrable:
                trial.started.set()

    return SignallingOperator(
        task_id=trial.name,
        flyte_conn_id=CONNECTION,
        task_name=NAP,
        inputs={"seconds": trial.expected.seconds, "fail": trial.expected.fail},
        deferrable=deferrable,
        poll_interval=POLL,
        outage_tolerance=OUTAGE_TOLERANCE,
    )


def sync_operator(trial: Trial, sandbox: Flyte2Sandbox) -> None:
    """The synchronous FlyteOperator on Flyte 2: launch, then poll ``GetRunDetails`` on the worker."""
    operator = _operator(trial, deferrable=False)
    context = {"ti": TaskInstance(trial.name)}
    _report_operator(trial, lambda: operator.execute(context))


def deferrable_operator(trial: Trial, sandbox: Flyte2Sandbox) -> None:
    """The deferrable FlyteOperator on Flyte 2: launch, defer, run Flyte2RunTrigger in an event loop, resume."""
    from airflow.providers.common.compat.sdk import TaskDeferred

    operator = _operator(trial, deferrable=True)
    context = {"ti": TaskInstance(trial.name)}

    def run() -> dict[str, Any]:
        try:
            return operator.execute(context)  # type: ignore[no-any-return]
        except TaskDeferred as deferred:
            trial.started.set()
            event = asyncio.run(_first_event(deferred.trigger))
            return operator.execute_complete(context, event)  # type: ignore[no-any-return]

    _report_operator(trial, run)


PATHS: dict[str, Callable[[Trial, Flyte2Sandbox], None]] = {
    "v2-sync-operator": sync_operator,
    "v2-deferrable-operator": deferrable_operator,
}


# ---------------------------------------------------------------------------------------------------- faults


FAULT_KINDS: dict[str, FaultKind] = {
    kind.name: kind
    for kind in (
        FaultKind("v2-unavailable-3s", "wait", _window(grpc.StatusCode.UNAVAILABLE, 3.0), paths=tuple(PATHS)),
        FaultKind(
            "v2-resource-exhausted-3s", "wait", _window(grpc.StatusCode.RESOURCE_EXHAUSTED, 3.0), paths=tuple(PATHS)
        ),
        FaultKind("v2-slow-reads-3s", "wait", _slow_reads(3.0, V2_READS), paths=tuple(PATHS)),
        FaultKind(
            "v2-unavailable-run-fails",
            "wait",
            _window(grpc.StatusCode.UNAVAILABLE, 3.0),
            run_seconds=1.5,
            fails=True,
            paths=tuple(PATHS),
        ),
        FaultKind("v2-admin-restart-4s", "wait", _outage(4.0, engine=False), paths=tuple(PATHS)),
        FaultKind("v2-admin-down-run-ends", "wait", _outage(4.0, engine=True), run_seconds=1.5, paths=tuple(PATHS)),
        FaultKind(
            "v2-admin-down-run-fails",
            "wait",
            _outage(4.0, engine=True),
            run_seconds=1.5,
            fails=True,
            paths=tuple(PATHS),
        ),
        FaultKind(
            "v2-create-unavailable",
            "launch",
            _creates(lambda sandbox, n: sandbox.faults.fail("CreateRun", grpc.StatusCode.UNAVAILABLE, times=n)),
            paths=tuple(PATHS),
        ),
        FaultKind(
            "v2-commit-then-unavailable",
            "launch",
            _creates(lambda sandbox, n: sandbox.faults.fail_after_commit("CreateRun", times=n)),
            paths=tuple(PATHS),
        ),
        FaultKind(
            "v2-create-slower-than-deadline",
            "launch",
            _creates(lambda sandbox, n: sandbox.faults.commit_late("CreateRun", seconds=RPC_TIMEOUT * 1.5, times=n)),
            paths=tuple(PATHS),
        ),
    )
}


# ---------------------------------------------------------------------------------------------------- rounds


def run_round(sandbox: Flyte2Sandbox, kind: FaultKind, trials_per_path: int) -> list[Verdict]:
    """Apply ``kind`` to ``trials_per_path`` concurrent trials of each of its paths; judge each trial."""
    expected = Expected(kind.run_seconds, "reliability run meant to fail" if kind.fails else "")
    sandbox.behave(NAP, function=nap, duration=kind.run_seconds)
    trials = [Trial(path, expected) for path in kind.paths for _ in range(trials_per_path)]
    over: Callable[[], object] = lambda: None  # noqa: E731
    if kind.stage == "launch":
        over = kind.inject(sandbox, len(trials))
    for trial in trials:
        trial.thread = threading.Thread(target=_catching(PATHS[trial.path], trial, sandbox), daemon=True)  # type: ignore[arg-type]
        trial.thread.start()
    deadline = time.monotonic() + TRIAL_LIMIT
    if kind.stage == "wait":
        for trial in trials:
            trial.started.wait(TRIAL_LIMIT)
        over = kind.inject(sandbox, len(trials))
    over()
    for trial in trials:
        assert trial.thread is not None
        trial.thread.join(max(0.0, deadline - time.monotonic()))
    sandbox.faults.clear()
    names = _run_names(sandbox)
    return [judge(names, trial) for trial in trials]


def _run_names(sandbox: Flyte2Sandbox) -> list[str]:
    from airflow_provider_flyte.clients.v2 import Flyte2Client

    with Flyte2Client(sandbox.grpc_endpoint, insecure=True) as client:
        return [run.action.id.run.name for run in client.iter_runs(PROJECT, DOMAIN)]


def judge(names: list[str], trial: Trial) -> Verdict:
    """Compare what the path reported with the runs the sandbox holds in the trial's line of names."""
    from airflow_provider_flyte.operators._naming import RUN_NAME_MAX, generation_of, run_name_for

    base = run_name_for("reliability", trial.name, trial.name)
    mine = [name for name in names if generation_of(name, base, RUN_NAME_MAX) is not None]
    still_running = trial.thread is not None and trial.thread.is_alive()
    wrong = ""
    if trial.error is not None:
        wrong = f"{type(trial.error).__name__}: {trial.error}"
    elif still_running:
        wrong = f"still waiting after {TRIAL_LIMIT:g}s"
    elif trial.reported is None:
        wrong = "reported nothing"
    else:
        phase, message, output = trial.reported
        expected = trial.expected
        if phase != expected.phase:
            wrong = f"reported {phase}, the run ended {expected.phase}"
        elif expected.fail and expected.fail not in message:
            wrong = f"reported FAILED without Flyte's message: {message!r}"
        elif not expected.fail and output != f"slept {expected.seconds:g}s":
            wrong = f"reported output {output!r}"
    return Verdict(trial.path, duplicates=max(0, len(mine) - 1), lost=not mine or still_running, wrong=wrong)


@contextlib.contextmanager
def matrix_sandbox_v2() -> Iterator[Flyte2Sandbox]:
    """A Flyte 2 sandbox on free ports with ``reliability.nap`` deployed."""
    with Flyte2Sandbox() as sandbox:
        deploy_nap_task(sandbox)
        yield sandbox
