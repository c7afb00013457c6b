"""The sandbox under load: CreateExecution throughput, time to finish many runs, cost per execution and close().

Run: ``python benchmarks/bench_sandbox.py [--sizes 1000 5000 20000] [--clients 8] [--task-delay 0.2]``

The sandbox runs in this process; the load comes from a client process of its own (``--clients`` threads, one gRPC
channel each), so the clients' CPU and interpreter lock are not the server's. For each size N a fresh sandbox
(in memory, ``--db`` for a SQLite file) gets a three-task chain (each task takes ``--task-delay`` seconds) and:

1. (first size only) GetVersion calls per second from the client process: the cost of a round trip through the
   sandbox's gRPC server, interceptors and routing with no work behind it, the baseline of the ratio below;
2. N CreateExecution calls of the chain from the client process, while the engine runs what is being created:
   creates per second, and their ratio to the GetVersion baseline;
3. the time from the first create until all N executions finished. The client looks with one ListExecutions of
   limit 1 filtered on the non-terminal phases every ``--poll`` seconds (nothing else polls the sandbox);
4. the server's CPU per execution (this process: gRPC handlers and engine, from the first create to the last run
   finished) and the engine thread's share, its memory per execution (RSS growth over N, after a collection), and
   how long ``close()`` takes with N executions stored.

The goals of issue 13 are printed last, beside what was measured. The benchmark prints and never fails: machines are
shared and noisy.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import resource
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PROJECT, DOMAIN = "flytesnacks", "development"
CHAIN = "bench.chain"
ACTIVE_PHASES = "UNDEFINED;QUEUED;RUNNING;SUCCEEDING;FAILING;ABORTING"
TARGET_CREATES_PER_SECOND = 1000.0
TARGET_FINISH_SECONDS = 5.0
TARGET_CLOSE_SECONDS = 1.0
FLAT_RATIO = 1.25


# The client process ------------------------------------------------------------------------------------------------


def _spread(calls: int, call: Callable[[Any, int], Any], stubs: list[Any]) -> float:
    """Seconds taken by ``call(stub, index)`` for every index, spread over one thread per stub.

    Raises:
        RuntimeError: a call failed (the first failure is chained).
    """
    counter = iter(range(calls))
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker(stub: Any) -> None:
        while not errors:
            with lock:
                index = next(counter, None)
            if index is None:
                return
            try:
                call(stub, index)
            except Exception as error:
                errors.append(error)

    threads = [threading.Thread(target=worker, args=(stub,)) for stub in stubs]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"a call failed: {errors[0]}") from errors[0]
    return time.perf_counter() - started


def _client(endpoint: str, clients: int, connection: Connection) -> None:
    """Serve the parent's commands over ``connection`` until ``stop``; each answer is a dict of measurements."""
    import grpc
    from flyteidl.admin import common_pb2, execution_pb2, version_pb2
    from flyteidl.core import identifier_pb2, literals_pb2
    from flyteidl.service import admin_pb2_grpc

    channels = [grpc.insecure_channel(endpoint) for _ in range(clients)]
    stubs = [admin_pb2_grpc.AdminServiceStub(channel) for channel in channels]
    inputs = literals_pb2.LiteralMap()
    inputs.literals["x"].scalar.primitive.integer = 1
    spec = execution_pb2.ExecutionSpec()

    prefix = ["run"]

    def create(stub: Any, index: int) -> None:
        request = execution_pb2.ExecutionCreateRequest(
            project=PROJECT, domain=DOMAIN, name=f"{prefix[0]}-{index}", spec=spec, inputs=inputs
        )
        stub.CreateExecution(request)

    def count(filters: str) -> int:
        request = common_pb2.ResourceListRequest(
            id=common_pb2.NamedEntityIdentifier(project=PROJECT, domain=DOMAIN), limit=1, filters=filters
        )
        return len(stubs[0].ListExecutions(request).executions)

    def run(calls: int, poll: float) -> dict[str, Any]:
        started = time.perf_counter()
        created = _spread(calls, create, stubs)
        polls = 1
        while count(f"value_in(phase,{ACTIVE_PHASES})"):
            time.sleep(poll)
            polls += 1
        finished = time.perf_counter() - started
        return {"created": created, "finished": finished, "polls": polls, "failed": count("ne(phase,SUCCEEDED)")}

    while True:
        command, argument = connection.recv()
        if command == "stop":
            break
        try:
            if command == "version":
                seconds = _spread(argument, lambda stub, _: stub.GetVersion(version_pb2.GetVersionRequest()), stubs)
                connection.send({"seconds": seconds})
            elif command == "create":  # creates only, named <prefix>-<index>
                plan, calls, prefix[0] = argument
                spec.launch_plan.CopyFrom(identifier_pb2.Identifier.FromString(plan))
                connection.send({"seconds": _spread(calls, create, stubs)})
            else:
                plan, calls, poll = argument
                spec.launch_plan.CopyFrom(identifier_pb2.Identifier.FromString(plan))
                prefix[0] = "run"
                connection.send(run(calls, poll))
        except Exception as error:
            connection.send({"error": repr(error)})
    for channel in channels:
        channel.close()


# The server side ---------------------------------------------------------------------------------------------------


def _register(sandbox: Any) -> bytes:
    """The project and the three-task chain ``bench.chain``, registered in-process; the launch plan's id."""
    from flyte_admin_sandbox import builders as b
    from flyteidl.admin import launch_plan_pb2, project_pb2, task_pb2, workflow_pb2

    registry = sandbox.registry
    registry.RegisterProject(project_pb2.ProjectRegisterRequest(project=project_pb2.Project(id=PROJECT, name=PROJECT)))
    integer = {"x": b.INTEGER}
    step = b.container_task("bench.step", inputs=integer, outputs={"o0": b.INTEGER})
    registry.CreateTask(task_pb2.TaskCreateRequest(id=step.id, spec=task_pb2.TaskSpec(template=step)))
    nodes = [
        b.task_node(
            f"n{index}", step.id, {"x": b.workflow_input("x") if index == 0 else b.promise(f"n{index - 1}", "o0")}
        )
        for index in range(3)
    ]
    template = b.workflow(
        CHAIN, inputs=integer, outputs={"o0": b.INTEGER}, nodes=nodes, output_bindings={"o0": b.promise("n2", "o0")}
    )
    registry.CreateWorkflow(
        workflow_pb2.WorkflowCreateRequest(id=template.id, spec=workflow_pb2.WorkflowSpec(template=template))
    )
    plan = b.identifier(b.RT.LAUNCH_PLAN, CHAIN)
    registry.CreateLaunchPlan(launch_plan_pb2.LaunchPlanCreateRequest(id=plan, spec=b.launch_plan_spec(template.id)))
    return bytes(plan.SerializeToString())


def _answer(connection: Connection) -> dict[str, Any]:
    """The client's answer to a command.

    Raises:
        RuntimeError: the command failed in the client.
    """
    answer: dict[str, Any] = connection.recv()
    if "error" in answer:
        raise RuntimeError(f"the client failed: {answer['error']}")
    return answer


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _thread_cpu(native_id: int | None) -> float:
    """CPU seconds of one thread of this process (Linux), 0 when unknown."""
    if native_id is None:
        return 0.0
    try:
        fields = Path(f"/proc/self/task/{native_id}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss() -> float:
    """Resident memory of this process in bytes (Linux), 0 when unknown."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except OSError:
        return 0.0
    return float(pages * os.sysconf("SC_PAGE_SIZE"))


@dataclass
class Measured:
    """What one size measured."""

    size: int
    created: float
    finished: float
    failed: int
    polls: int
    cpu: float
    engine_cpu: float
    rss: float
    close: float
    baseline: float = 0.0


def _measure(size: int, options: argparse.Namespace, with_baseline: bool) -> Measured:
    """A fresh sandbox, a client process, N executions of the chain, then close()."""
    from flyte_admin_sandbox import FlyteSandbox

    folder = tempfile.TemporaryDirectory(prefix="bench-sandbox-")
    db_path = Path(folder.name) / "sandbox.db" if options.db else None
    sandbox = FlyteSandbox(port=0, task_delay=options.task_delay, seed=False, db_path=db_path).start()
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    client = context.Process(target=_client, args=(sandbox.endpoint, options.clients, theirs), daemon=True)
    try:
        plan = _register(sandbox)
        client.start()
        baseline = 0.0
        if with_baseline:
            ours.send(("version", options.baseline_calls))
            baseline = options.baseline_calls / _answer(ours)["seconds"]
        engine_thread = getattr(sandbox.engine, "_thread", None)
        native_id = getattr(engine_thread, "native_id", None)
        gc.collect()
        rss, cpu, engine_cpu = _rss(), _cpu(), _thread_cpu(native_id)
        ours.send(("run", (plan, size, options.poll)))
        result = _answer(ours)
        cpu, engine_cpu = _cpu() - cpu, _thread_cpu(native_id) - engine_cpu
        gc.collect()
        rss = _rss() - rss
        ours.send(("stop", None))
        client.join(timeout=30)
    finally:
        started = time.perf_counter()
        sandbox.close()
        close = time.perf_counter() - started
        folder.cleanup()
    return Measured(
        size,
        result["created"],
        result["finished"],
        result["failed"],
        result["polls"],
        cpu,
        engine_cpu,
        rss,
        close,
        baseline,
    )


def _report(rows: list[Measured], options: argparse.Namespace) -> None:
    """One line per size, then the goals beside what was measured."""
    first = rows[0]
    print(f"GetVersion baseline: {first.baseline:8.0f} calls/s ({options.clients} client threads, another process)")
    for row in rows:
        rate = row.size / row.created
        print(
            f"N={row.size:>6}: CreateExecution {rate:6.0f}/s (ratio to GetVersion {rate / first.baseline:.2f}), "
            f"all finished after {row.finished:6.2f}s ({row.polls} polls, {row.failed} not SUCCEEDED); "
            f"server CPU {1000 * row.cpu / row.size:5.2f} ms/execution (engine thread "
            f"{1000 * row.engine_cpu / row.size:5.2f}); memory {row.rss / row.size / 1024:5.1f} KiB/execution; "
            f"close() {row.close:5.2f}s"
        )
    per_execution = [row.cpu / row.size for row in rows]
    ratios = ", ".join(
        f"{row.size}: {cost / per_execution[0]:.2f}" for row, cost in zip(rows, per_execution, strict=True)
    )
    largest = rows[-1]
    flat = max(per_execution) / per_execution[0] <= FLAT_RATIO
    rate = first.size / first.created
    print("Goals (issue 13), measured on this machine:")
    met = rate >= TARGET_CREATES_PER_SECOND
    print(f"  CreateExecution >= {TARGET_CREATES_PER_SECOND:.0f}/s: {rate:.0f}/s at N={first.size}: {_verdict(met)}")
    print(
        f"  {first.size} three-task executions all finished <= {TARGET_FINISH_SECONDS:.0f}s: {first.finished:.2f}s "
        f"(the chain alone takes >= {3 * options.task_delay:.2f}s): {_verdict(first.finished <= TARGET_FINISH_SECONDS)}"
    )
    print(f"  cost per execution flat (ratio to N={first.size} <= {FLAT_RATIO}): {ratios}: {_verdict(flat)}")
    print(
        f"  close() < {TARGET_CLOSE_SECONDS:.0f}s at N={largest.size}: {largest.close:.2f}s: "
        f"{_verdict(largest.close < TARGET_CLOSE_SECONDS)}"
    )


def _verdict(met: bool) -> str:
    return "met" if met else "NOT MET"


def main() -> None:
    """Measure every size and print the results."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000], help="executions per sandbox")
    parser.add_argument("--clients", type=int, default=8, help="client threads (in one client process)")
    parser.add_argument("--task-delay", type=float, default=0.2, help="seconds each task of the chain takes")
    parser.add_argument("--poll", type=float, default=0.1, help="seconds between the client's looks for completion")
    parser.add_argument("--baseline-calls", type=int, default=3000, help="GetVersion calls of the baseline")
    parser.add_argument("--db", action="store_true", help="keep the sandbox's state in a SQLite file")
    options = parser.parse_args()
    rows = []
    for index, size in enumerate(options.sizes):
        rows.append(_measure(size, options, with_baseline=index == 0))
        print(f"  measured N={size}", file=sys.stderr, flush=True)
    _report(rows, options)


if __name__ == "__main__":
    main()
