"""The sandbox under load: CreateExecution throughput and many executions advancing at once.

Run: ``python benchmarks/bench_sandbox.py [--creates 1000] [--concurrent 1000] [--clients 8] [--task-delay 0.2]``

1. Baseline: GetVersion calls per second from ``--clients`` threads (the cost of one round trip through the
   sandbox's gRPC server, interceptors and service routing, with no work behind it).
2. CreateExecution per second from the same threads on a one-task launch plan, while the engine runs the executions
   being created (as it would in use). Target: >= 300/s on loopback; the ratio to the baseline is printed too.
3. ``--concurrent`` executions of a three-task chain created at once, then the time until every one has SUCCEEDED,
   with the engine's progress (executions finished per second).

Everything runs in this process: the client threads share the interpreter with the server and the engine, as in a
test suite using the sandbox.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET_CREATES_PER_SECOND = 300.0


def _rate(calls: int, clients: int, call: Callable[[int], Any]) -> float:
    """Calls per second of ``call(index)`` spread over ``clients`` threads."""
    counter = iter(range(calls))
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                index = next(counter, None)
            if index is None:
                return
            call(index)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        for future in [pool.submit(worker) for _ in range(clients)]:
            future.result()
    return calls / (time.perf_counter() - started)


def main() -> None:
    """Run the three measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--creates", type=int, default=1000, help="CreateExecution calls to time")
    parser.add_argument("--concurrent", type=int, default=1000, help="executions advancing at once")
    parser.add_argument("--clients", type=int, default=8, help="client threads")
    parser.add_argument("--task-delay", type=float, default=0.2, help="seconds each task of the chain takes")
    options = parser.parse_args()

    import grpc
    from flyte_admin_sandbox import FlyteSandbox
    from flyte_admin_sandbox import builders as b
    from flyteidl.admin import common_pb2, execution_pb2, project_pb2, task_pb2, version_pb2, workflow_pb2
    from flyteidl.admin import launch_plan_pb2 as lp_pb2
    from flyteidl.service import admin_pb2_grpc

    integer = {"x": b.INTEGER}
    with FlyteSandbox(port=0, task_delay=options.task_delay, seed=False) as sandbox:
        project = project_pb2.Project(id="flytesnacks", name="flytesnacks")
        sandbox.registry.RegisterProject(project_pb2.ProjectRegisterRequest(project=project))
        channel = grpc.insecure_channel(sandbox.endpoint)
        admin = admin_pb2_grpc.AdminServiceStub(channel)
        step = b.container_task("bench.step", inputs=integer, outputs={"o0": b.INTEGER})
        admin.CreateTask(task_pb2.TaskCreateRequest(id=step.id, spec=task_pb2.TaskSpec(template=step)))

        def register(name: str, length: int) -> Any:
            nodes = []
            for index in range(length):
                source = b.workflow_input("x") if index == 0 else b.promise(f"n{index - 1}", "o0")
                nodes.append(b.task_node(f"n{index}", step.id, {"x": source}))
            template = b.workflow(
                name,
                inputs=integer,
                outputs={"o0": b.INTEGER},
                nodes=nodes,
                output_bindings={"o0": b.promise(f"n{length - 1}", "o0")},
            )
            spec = workflow_pb2.WorkflowSpec(template=template)
            admin.CreateWorkflow(workflow_pb2.WorkflowCreateRequest(id=template.id, spec=spec))
            plan_id = b.identifier(b.RT.LAUNCH_PLAN, name)
            admin.CreateLaunchPlan(lp_pb2.LaunchPlanCreateRequest(id=plan_id, spec=b.launch_plan_spec(template.id)))
            return plan_id

        single, chain = register("bench.single", 1), register("bench.chain", 3)
        inputs = b.literal_map({"x": 1}, integer)

        def create(plan_id: Any, name: str) -> None:
            admin.CreateExecution(
                execution_pb2.ExecutionCreateRequest(
                    project="flytesnacks",
                    domain="development",
                    name=name,
                    spec=execution_pb2.ExecutionSpec(launch_plan=plan_id),
                    inputs=inputs,
                )
            )

        calls = options.creates
        baseline = _rate(calls, options.clients, lambda _: admin.GetVersion(version_pb2.GetVersionRequest()))
        creates = _rate(calls, options.clients, lambda index: create(single, f"tput-{index}"))
        verdict = "OK" if creates >= TARGET_CREATES_PER_SECOND else "BELOW TARGET"
        print(f"GetVersion baseline:  {baseline:8.0f} calls/s ({options.clients} client threads)")
        print(
            f"CreateExecution:      {creates:8.0f} calls/s  ratio to baseline {creates / baseline:.2f}  "
            f"target >= {TARGET_CREATES_PER_SECOND:.0f}/s: {verdict}"
        )

        def finished(prefix: str) -> int:
            listed = admin.ListExecutions(
                common_pb2.ResourceListRequest(
                    id=common_pb2.NamedEntityIdentifier(project="flytesnacks", domain="development"),
                    limit=100_000,
                    filters=f"eq(phase,SUCCEEDED)+contains(execution_name,{prefix})",
                )
            )
            return len(listed.executions)

        while finished("tput-") < calls:  # let the throughput runs drain before the concurrency run
            time.sleep(0.2)

        count = options.concurrent
        started = time.perf_counter()
        _rate(count, options.clients, lambda index: create(chain, f"many-{index}"))
        created = time.perf_counter() - started
        done = 0
        while done < count:
            time.sleep(0.1)
            done = finished("many-")
        elapsed = time.perf_counter() - started
        floor = 3 * options.task_delay
        print(
            f"{count} concurrent 3-task executions: created in {created:.2f}s, all SUCCEEDED after {elapsed:.2f}s "
            f"({count / elapsed:.0f} executions/s; the chain alone takes >= {floor:.2f}s)"
        )
        channel.close()


if __name__ == "__main__":
    main()
