"""The fault matrix: every wait and launch path of the provider against a real sandbox whose Flyte Admin misbehaves.

A *round* applies one fault kind to many concurrent *trials*. Each trial is one path (the sync FlyteOperator, the
deferrable FlyteOperator with its trigger driven in an event loop, FlyteExecutionSensor in poke mode,
``FlyteRemote.execute``/``wait``) following one execution of the ``reliability.nap`` launch plan, whose task sleeps
and then succeeds or fails. After the round every trial is judged: exactly one execution carries its name (no
duplicate, none lost), and the path reported the run's true outcome (phase, Flyte's error message, outputs).

Wait faults hit while every trial is already waiting; launch faults are in force when the trials launch. The tests in
this folder run a representative part of the matrix; ``benchmarks/bench_faults.py`` runs all of it, many times.

The sandbox engine runs :func:`nap` in this process, so this module must be importable as ``fault_matrix``.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import grpc
from flyte_admin_sandbox import FlyteSandbox

from airflow_provider_flyte.clients.friendly import SynchronousFlyteClient
from airflow_provider_flyte.remote import FlyteRemote
from tests.support.sandboxes import new_sandbox

PROJECT, DOMAIN = "flytesnacks", "development"
LAUNCH_PLAN = "reliability.nap"
GATED_LAUNCH_PLAN = "reliability.gated_nap"
GATE_SIGNAL = "go"
RPC_TIMEOUT = 1.0
"""Per-call deadline of every client in the matrix: short, so slow-Admin faults show as DEADLINE_EXCEEDED quickly."""
OUTAGE_TOLERANCE = 60.0
POLL = 0.2
TRIAL_LIMIT = 90.0
"""A trial still running this long after its round started counts as lost."""


def nap(seconds: float, fail: str) -> str:
    """The task of ``reliability.nap``: sleep, then fail with ``fail`` when it is not empty."""
    time.sleep(seconds)
    if fail:
        raise ValueError(fail)
    return f"slept {seconds:g}s"


def register_nap_workflow(sandbox: FlyteSandbox) -> None:
    """Register ``reliability.nap`` (inputs ``seconds: float``, ``fail: str``; output ``o0: str``)."""
    from flyte_admin_sandbox import builders as b
    from flyteidl.admin import launch_plan_pb2, task_pb2, workflow_pb2

    inputs = {"seconds": b.FLOAT, "fail": b.STRING}
    task = b.python_task("reliability.nap", f"{__name__}:nap", inputs=inputs, outputs={"o0": b.STRING})
    workflow = b.workflow(
        LAUNCH_PLAN,
        inputs=inputs,
        outputs={"o0": b.STRING},
        nodes=[b.task_node("nap", task.id, {name: b.workflow_input(name) for name in inputs})],
        output_bindings={"o0": b.promise("nap", "o0")},
    )
    gated = b.workflow(
        GATED_LAUNCH_PLAN,
        inputs={"seconds": b.FLOAT},
        outputs={"o0": b.STRING},
        nodes=[
            b.task_node("nap", task.id, {"seconds": b.workflow_input("seconds"), "fail": b.constant("", b.STRING)}),
            b.approve_node("gate", GATE_SIGNAL, {"o0": b.promise("nap", "o0")}, upstream=["nap"]),
        ],
        output_bindings={"o0": b.promise("gate", "o0")},
    )
    registry = sandbox.registry
    registry.CreateTask(task_pb2.TaskCreateRequest(id=task.id, spec=task_pb2.TaskSpec(template=task)))
    for template in (workflow, gated):
        registry.CreateWorkflow(
            workflow_pb2.WorkflowCreateRequest(id=template.id, spec=workflow_pb2.WorkflowSpec(template=template))
        )
        plan_id = b.identifier(b.RT.LAUNCH_PLAN, template.id.name)
        registry.CreateLaunchPlan(
            launch_plan_pb2.LaunchPlanCreateRequest(id=plan_id, spec=b.launch_plan_spec(template.id))
        )


def connection_json(sandbox: FlyteSandbox) -> str:
    """The ``AIRFLOW_CONN_FLYTE_DEFAULT`` value the operator paths use."""
    import json

    host, port = sandbox.endpoint.rsplit(":", 1)
    extra = {
        "insecure": True,
        "project": PROJECT,
        "domain": DOMAIN,
        "rpc_timeout": RPC_TIMEOUT,
        "outage_tolerance": OUTAGE_TOLERANCE,
    }
    return json.dumps({"conn_type": "flyte", "host": host, "port": int(port), "extra": extra})


# ---------------------------------------------------------------------------------------------------- outcomes


@dataclass(frozen=True)
class Expected:
    """What a trial's run does and so what its path must report."""

    seconds: float
    fail: str = ""

    @property
    def phase(self) -> str:
        return "FAILED" if self.fail else "SUCCEEDED"


@dataclass
class Trial:
    """One path following one execution through a round."""

    path: str
    expected: Expected
    name: str = field(default_factory=lambda: f"rel-{uuid.uuid4().hex[:12]}")
    started: threading.Event = field(default_factory=threading.Event)
    reported: tuple[str, str, Any] | None = None
    """``(phase, message, output o0)`` the path reported."""
    error: BaseException | None = None
    thread: threading.Thread | None = None


@dataclass(frozen=True)
class Verdict:
    """How one trial went."""

    path: str
    duplicates: int
    lost: bool
    wrong: str
    """Empty when the path reported the truth, else what was wrong."""


# ---------------------------------------------------------------------------------------------------- paths


class TaskInstance:
    """What the operators read from ``context["ti"]`` (a task run outside Airflow's task runner)."""

    def __init__(self, name: str, try_number: int = 1) -> None:
        self.dag_id = "reliability"
        self.run_id = name
        self.task_id = name
        self.map_index = -1
        self.try_number = try_number
        self.stats_tags: dict[str, str] = {}
        self.xcoms: dict[str, object] = {}

    def xcom_push(self, key: str, value: object) -> None:
        self.xcoms[key] = value


def _operator_context(trial: Trial, try_number: int = 1) -> dict[str, Any]:
    return {"ti": TaskInstance(trial.name, try_number)}


def _operator(trial: Trial, deferrable: bool) -> Any:
    from airflow_provider_flyte.operators.flyte import FlyteOperator

    class SignallingOperator(FlyteOperator):
        """Tells the round when the launch is done and the synchronous wait begins."""

        def poll_until_complete(self, external_id: Any, context: Any) -> dict[str, Any]:
            trial.started.set()
            return super().poll_until_complete(external_id, context)

    return SignallingOperator(
        task_id=trial.name,
        launchplan_name=LAUNCH_PLAN,
        inputs={"seconds": trial.expected.seconds, "fail": trial.expected.fail},
        deferrable=deferrable,
        poll_interval=POLL,
        outage_tolerance=OUTAGE_TOLERANCE,
    )


def _report_operator(trial: Trial, run: Callable[[], dict[str, Any]]) -> None:
    from airflow_provider_flyte.operators.flyte import FlyteExecutionFailedError

    try:
        result = run()
    except FlyteExecutionFailedError as failed:
        trial.reported = (str(failed.phase), failed.flyte_message, None)
    else:
        trial.reported = (result["phase"], "", (result["outputs"] or {}).get("o0"))


def sync_operator(trial: Trial, sandbox: FlyteSandbox, try_number: int = 1) -> None:
    """The synchronous FlyteOperator: launch and wait on the worker."""
    operator = _operator(trial, deferrable=False)
    context = _operator_context(trial, try_number)
    _report_operator(trial, lambda: operator.execute(context))


def deferrable_operator(trial: Trial, sandbox: FlyteSandbox) -> None:
    """The deferrable FlyteOperator: launch, defer, run the trigger in an event loop, resume."""
    from airflow.providers.common.compat.sdk import TaskDeferred

    operator = _operator(trial, deferrable=True)
    context = _operator_context(trial)

    def run() -> dict[str, Any]:
        try:
            return operator.execute(context)  # type: ignore[no-any-return]
        except TaskDeferred as deferred:
            trial.started.set()
            event = asyncio.run(_first_event(deferred.trigger))
            return operator.execute_complete(context, event)  # type: ignore[no-any-return]

    _report_operator(trial, run)


async def _first_event(trigger: Any) -> Any:
    async for event in trigger.run():
        return event.payload
    raise AssertionError("the trigger ended without an event")


def _launch_plain(trial: Trial, sandbox: FlyteSandbox) -> Any:
    """Launch the trial's run from outside Airflow, as another system would (with the matrix's client settings)."""
    remote = FlyteRemote(sandbox.config.with_overrides(rpc_timeout=RPC_TIMEOUT), PROJECT, DOMAIN)
    execution = remote.execute(
        remote.fetch_launch_plan(name=LAUNCH_PLAN),
        inputs={"seconds": trial.expected.seconds, "fail": trial.expected.fail},
        execution_name=trial.name,
    )
    return remote, execution


def poke_sensor(trial: Trial, sandbox: FlyteSandbox) -> None:
    """FlyteExecutionSensor in poke mode, watching a run launched elsewhere; pokes as Airflow's poke loop does."""
    from airflow.providers.common.compat.sdk import AirflowFailException

    from airflow_provider_flyte.sensors.flyte import FlyteExecutionSensor

    remote, execution = _launch_plain(trial, sandbox)
    remote.close()
    sensor = FlyteExecutionSensor(
        task_id=trial.name, execution_id=str(execution.id), poke_interval=POLL, outage_tolerance=OUTAGE_TOLERANCE
    )
    context = _operator_context(trial)
    trial.started.set()
    try:
        while not (result := sensor.poke(context)).is_done:  # type: ignore[arg-type]
            time.sleep(POLL)
    except AirflowFailException as failed:
        trial.reported = ("FAILED", str(failed), None)
    else:
        trial.reported = (result.xcom_value["phase"], "", None)


def remote_wait(trial: Trial, sandbox: FlyteSandbox) -> None:
    """``FlyteRemote.execute`` with a name, then ``FlyteRemote.wait``."""
    remote, execution = _launch_plain(trial, sandbox)
    with remote:
        trial.started.set()
        done = remote.wait(execution, poll_interval=POLL, outage_tolerance=OUTAGE_TOLERANCE)
        error = done.error
        outputs = done.outputs.get("o0") if done.is_successful else None
        trial.reported = (done.phase_name, error.message if error is not None else "", outputs)


def _signal_operator(trial: Trial, deferrable: bool) -> Any:
    from airflow_provider_flyte.operators.signal import FlyteSignalOperator

    class SignallingSignalOperator(FlyteSignalOperator):
        """Tells the round when the wait for the gate begins."""

        def _signal_exists(self, execution_id: Any) -> bool:
            trial.started.set()
            return super()._signal_exists(execution_id)

        def defer(self, **kwargs: Any) -> Any:
            trial.started.set()
            return super().defer(**kwargs)

    return SignallingSignalOperator(
        task_id=trial.name,
        execution_id=f"ex:{PROJECT}:{DOMAIN}:{trial.name}",
        signal_id=GATE_SIGNAL,
        action="approve",
        deferrable=deferrable,
        poll_interval=POLL,
        outage_tolerance=OUTAGE_TOLERANCE,
    )


def signal_operator(trial: Trial, sandbox: FlyteSandbox, deferrable: bool = False) -> None:
    """FlyteSignalOperator approving a gate that the run reaches while the fault is on."""
    from airflow.providers.common.compat.sdk import TaskDeferred

    remote = FlyteRemote(sandbox.config.with_overrides(rpc_timeout=RPC_TIMEOUT), PROJECT, DOMAIN)
    with remote:
        execution = remote.execute(
            remote.fetch_launch_plan(name=GATED_LAUNCH_PLAN),
            inputs={"seconds": trial.expected.seconds},
            execution_name=trial.name,
        )
    operator, context = _signal_operator(trial, deferrable), _operator_context(trial)
    try:
        operator.execute(context)
    except TaskDeferred as deferred:
        event = asyncio.run(_first_event(deferred.trigger))
        operator.execute_complete(context, event)
    with FlyteRemote(sandbox.config, PROJECT, DOMAIN) as check:  # what Admin holds once the fault is over
        done = check.wait(execution, poll_interval=POLL, timeout=TRIAL_LIMIT)
        trial.reported = (done.phase_name, "", done.outputs.get("o0") if done.is_successful else None)


def deferrable_signal_operator(trial: Trial, sandbox: FlyteSandbox) -> None:
    """The same, waiting for the gate in FlyteSignalTrigger."""
    signal_operator(trial, sandbox, deferrable=True)


def backfill_operator(trial: Trial, sandbox: FlyteSandbox, deferrable: bool = False) -> None:
    """FlyteBackfillOperator replaying one day of ``demo.nightly``, launched and followed through the fault."""
    from airflow.providers.common.compat.sdk import TaskDeferred

    from airflow_provider_flyte.operators.backfill import FlyteBackfillOperator

    class SignallingBackfillOperator(FlyteBackfillOperator):
        """Tells the round when following the backfill begins."""

        def _follow(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
            trial.started.set()
            return super()._follow(*args, **kwargs)

        def defer(self, **kwargs: Any) -> Any:
            trial.started.set()
            return super().defer(**kwargs)

    operator = SignallingBackfillOperator(
        task_id=trial.name,
        launchplan_name="demo.nightly",
        from_date="2026-06-01T00:00:00+00:00",
        to_date="2026-06-02T00:00:00+00:00",
        deferrable=deferrable,
        poll_interval=POLL,
        outage_tolerance=OUTAGE_TOLERANCE,
    )
    context = _operator_context(trial)
    try:
        result = operator.execute(context)
    except TaskDeferred as deferred:
        result = operator.execute_complete(context, asyncio.run(_first_event(deferred.trigger)))
    trial.reported = (result["phase"], "", None)


def deferrable_backfill_operator(trial: Trial, sandbox: FlyteSandbox) -> None:
    """The same, following the backfill in FlyteBackfillTrigger."""
    backfill_operator(trial, sandbox, deferrable=True)


PATHS: dict[str, Callable[[Trial, FlyteSandbox], None]] = {
    "sync-operator": sync_operator,
    "deferrable": deferrable_operator,
    "sensor": poke_sensor,
    "remote": remote_wait,
    "signal": signal_operator,
    "deferrable-signal": deferrable_signal_operator,
    "backfill": backfill_operator,
    "deferrable-backfill": deferrable_backfill_operator,
}
RUN_PATHS = ("sync-operator", "deferrable", "sensor", "remote")
"""The paths that report the run's own outcome (and so can be checked against a run that fails)."""
LAUNCH_PATHS = ("sync-operator", "deferrable", "remote", "backfill")
OWN_NAME_PATHS = ("sensor", "remote", "signal", "deferrable-signal")
"""The paths whose run is launched under the trial's own name (the operators derive theirs from the task)."""


# ---------------------------------------------------------------------------------------------------- faults


@dataclass(frozen=True)
class FaultKind:
    """One way Flyte Admin misbehaves.

    Attributes:
        name: Short name, for tables and test ids.
        stage: ``"wait"`` (applied once every trial waits) or ``"launch"`` (in force while the trials launch).
        inject: Applies the fault to the sandbox; returns a callable that blocks until the fault is over.
        run_seconds: How long each trial's run takes.
        fails: Whether the runs fail (checks that a failure during the fault is reported as such).
        paths: The paths the fault applies to.
    """

    name: str
    stage: str
    inject: Callable[[Any, int], Callable[[], object]]
    run_seconds: float = 1.0
    fails: bool = False
    paths: tuple[str, ...] = tuple(PATHS)


# The injectors take either Flyte's sandbox (FlyteSandbox, Flyte2Sandbox): fault_matrix_v2 uses them too.


def _window(code: grpc.StatusCode, seconds: float) -> Callable[[Any, int], Callable[[], object]]:
    def inject(sandbox: Any, trials: int) -> Callable[[], object]:
        sandbox.faults.fail(None, code, seconds=seconds)
        return lambda: time.sleep(seconds)

    return inject


def _slow_reads(
    seconds: float, rpcs: tuple[str, ...] = ("GetExecution", "ListExecutions")
) -> Callable[[Any, int], Callable[[], object]]:
    def inject(sandbox: Any, trials: int) -> Callable[[], object]:
        for rpc in rpcs:
            sandbox.faults.delay(rpc, RPC_TIMEOUT * 1.5, duration=seconds)
        return lambda: time.sleep(seconds + RPC_TIMEOUT * 1.5)

    return inject


def _outage(seconds: float, engine: bool) -> Callable[[Any, int], Callable[[], object]]:
    def inject(sandbox: Any, trials: int) -> Callable[[], object]:
        over: Callable[[], object] = sandbox.outage(seconds, engine=engine).wait
        return over

    return inject


def _slow_creates(sandbox: FlyteSandbox, trials: int) -> object:
    """Creates that take longer than the client's deadline, then commit: a slow Admin."""
    return sandbox.faults.commit_late("CreateExecution", seconds=RPC_TIMEOUT * 1.5, times=2 * trials)


def _creates(apply: Callable[[Any, int], object]) -> Callable[[Any, int], Callable[[], object]]:
    def inject(sandbox: Any, trials: int) -> Callable[[], object]:
        apply(sandbox, trials)
        return lambda: None

    return inject


FAULT_KINDS: dict[str, FaultKind] = {
    kind.name: kind
    for kind in (
        FaultKind("unavailable-3s", "wait", _window(grpc.StatusCode.UNAVAILABLE, 3.0)),
        FaultKind("resource-exhausted-3s", "wait", _window(grpc.StatusCode.RESOURCE_EXHAUSTED, 3.0)),
        FaultKind("slow-reads-3s", "wait", _slow_reads(3.0)),
        FaultKind("admin-restart-4s", "wait", _outage(4.0, engine=False)),
        FaultKind("admin-down-run-ends", "wait", _outage(4.0, engine=True), run_seconds=1.5),
        FaultKind(
            "admin-down-run-fails", "wait", _outage(4.0, engine=True), run_seconds=1.5, fails=True, paths=RUN_PATHS
        ),
        FaultKind(
            "create-unavailable",
            "launch",
            _creates(lambda sandbox, n: sandbox.faults.fail("CreateExecution", grpc.StatusCode.UNAVAILABLE, times=n)),
            paths=LAUNCH_PATHS,
        ),
        FaultKind(
            "commit-then-unavailable",
            "launch",
            _creates(lambda sandbox, n: sandbox.faults.fail_after_commit("CreateExecution", times=n)),
            paths=LAUNCH_PATHS,
        ),
        FaultKind(
            "create-slower-than-deadline",
            "launch",
            _creates(
                lambda sandbox, n: sandbox.faults.commit_late("CreateExecution", seconds=RPC_TIMEOUT * 1.5, times=n)
            ),
            paths=LAUNCH_PATHS,
        ),
        FaultKind(
            "second-try-during-slow-create",
            "launch",
            _creates(
                lambda sandbox, n: sandbox.faults.commit_late("CreateExecution", seconds=RPC_TIMEOUT * 1.5, times=n)
            ),
            paths=("two-tries",),
        ),
    )
}


def two_tries(trial: Trial, sandbox: FlyteSandbox) -> None:
    """Try 1 is still alive and slow in CreateExecution when try 2 of the same task instance starts."""
    first = Trial(trial.path, trial.expected, name=trial.name)
    worker = threading.Thread(target=_catching(sync_operator, first, sandbox), daemon=True)
    worker.start()
    time.sleep(RPC_TIMEOUT * 0.5)  # try 1's create is now held by the slow Admin
    sync_operator(trial, sandbox, try_number=2)
    worker.join(TRIAL_LIMIT)
    if first.error is not None:
        raise first.error
    if first.reported != trial.reported:
        raise AssertionError(f"the two tries disagree: {first.reported} vs {trial.reported}")


PATHS_WITH_TRIES: dict[str, Callable[[Trial, FlyteSandbox], None]] = {**PATHS, "two-tries": two_tries}


# ---------------------------------------------------------------------------------------------------- rounds


def _catching(path: Callable[[Trial, FlyteSandbox], None], trial: Trial, sandbox: FlyteSandbox) -> Callable[[], None]:
    def run() -> None:
        try:
            path(trial, sandbox)
        except BaseException as error:
            trial.error = error
        finally:
            trial.started.set()

    return run


def run_round(sandbox: FlyteSandbox, kind: FaultKind, trials_per_path: int) -> list[Verdict]:
    """Apply ``kind`` to ``trials_per_path`` concurrent trials of each of its paths; judge each trial."""
    expected = Expected(kind.run_seconds, "reliability run meant to fail" if kind.fails else "")
    trials = [Trial(path, expected) for path in kind.paths for _ in range(trials_per_path)]
    over: Callable[[], object] = lambda: None  # noqa: E731
    if kind.stage == "launch":
        over = kind.inject(sandbox, len(trials))
    for trial in trials:
        trial.thread = threading.Thread(target=_catching(PATHS_WITH_TRIES[trial.path], trial, sandbox), daemon=True)
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
    with FlyteRemote(sandbox.config, PROJECT, DOMAIN) as remote:
        return [judge(remote, trial) for trial in trials]


def judge(remote: FlyteRemote, trial: Trial) -> Verdict:
    """Compare what the path reported with what Admin holds for the trial's name."""
    names = _execution_names(remote, trial)
    still_running = trial.thread is not None and trial.thread.is_alive()
    lost = not names or still_running
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
        elif not expected.fail and output not in (None, f"slept {expected.seconds:g}s"):
            wrong = f"reported output {output!r}"
    return Verdict(trial.path, duplicates=max(0, len(names) - 1), lost=lost, wrong=wrong)


def _execution_names(remote: FlyteRemote, trial: Trial) -> list[str]:
    """Names of the executions that belong to the trial (its own name, or the operator's derived line of names)."""
    if trial.path in OWN_NAME_PATHS:
        prefix = trial.name
    else:
        from airflow_provider_flyte.operators.flyte import execution_name_for

        prefix = execution_name_for("reliability", trial.name, trial.name)
    return [e.id.name for e in remote.list_executions(filters=f"contains(execution_name,{prefix})")]


# ---------------------------------------------------------------------------------------------------- reconnects


def reconnect_delays(sandbox: FlyteSandbox, outage_seconds: float = 6.0) -> tuple[float, float, float]:
    """Seconds from Admin serving again to the first successful call, after an outage clients kept calling through.

    Returns:
        The delays of an existing sync client, an existing asyncio client, and a sync client created right after
        Admin came back (its first call is made without retries: ``inf`` when it failed).
    """
    from airflow_provider_flyte.clients.aio import AsyncFlyteClient

    config = sandbox.config.with_overrides(rpc_retries=0, rpc_timeout=RPC_TIMEOUT)
    loop = asyncio.new_event_loop()
    sync_client = SynchronousFlyteClient(config)
    try:
        sync_client.get_control_plane_version()
        async_client = loop.run_until_complete(_async_client(AsyncFlyteClient, config))
        outage = sandbox.outage(outage_seconds)
        while not outage.done:  # both channels keep failing, and backing off, for the whole outage
            with contextlib.suppress(Exception):
                sync_client.get_control_plane_version()
            with contextlib.suppress(Exception):
                loop.run_until_complete(async_client.get_control_plane_version())
            time.sleep(0.3)
        back = outage.wait()
        with SynchronousFlyteClient(config) as fresh:  # created while the old channels still back off
            try:
                fresh.get_control_plane_version()  # no retries: the very first call must work
                fresh_delay = time.monotonic() - back
            except Exception:
                fresh_delay = math.inf
        sync_delay = _first_success(sync_client.get_control_plane_version) - back
        async_delay = _first_success(lambda: loop.run_until_complete(async_client.get_control_plane_version())) - back
        loop.run_until_complete(async_client.close())
    finally:
        sync_client.close()
        loop.close()
    return sync_delay, async_delay, fresh_delay


async def _async_client(factory: Any, config: Any) -> Any:
    client = factory(config)
    await client.get_control_plane_version()
    return client


def _first_success(call: Callable[[], object], limit: float = 30.0) -> float:
    """The monotonic time ``call`` first succeeded, calling it every 20 ms."""
    give_up = time.monotonic() + limit
    while True:
        try:
            call()
            return time.monotonic()
        except Exception:
            if time.monotonic() > give_up:
                raise
            time.sleep(0.02)


@contextlib.contextmanager
def matrix_sandbox(**options: Any) -> Iterator[FlyteSandbox]:
    """A seeded sandbox on a free port with ``reliability.nap`` registered."""
    with new_sandbox(**options) as sandbox:
        register_nap_workflow(sandbox)
        yield sandbox
