"""Triggerer cost of watching many Flyte executions: coalesced ListExecutions vs one GetExecution per trigger.

For N watched executions (default 1,000 and 10,000) this measures one polling tick both ways against a loopback
Admin that answers GetExecution and ListExecutions(value_in(execution_name,...)):

* coalesced: the provider's ``ExecutionWatcher`` (what every FlyteExecutionTrigger of a triggerer shares);
* baseline: one ``GetExecution`` per execution on one channel, at most 100 in flight (what a trigger per run does,
  triggers polling independently).

It prints RPCs per tick, wall time and CPU time of the process (client and loopback server together) per tick, and
the detection latency (time from a phase change to every watcher having seen it, with the tick starting right after
the change). Ratios are baseline / coalesced, measured in the same run.

    .venv/bin/python benchmarks/bench_trigger_coalescing.py [N ...]
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from concurrent import futures
from typing import Any

import grpc
from flyteidl.admin import execution_pb2
from flyteidl.core import execution_pb2 as core_execution_pb2
from flyteidl.core import identifier_pb2
from flyteidl.service import admin_pb2_grpc

from airflow_provider_flyte.clients.aio import AsyncFlyteClient
from airflow_provider_flyte.configuration import PlatformConfig
from airflow_provider_flyte.identifiers import WorkflowExecutionIdentifier
from airflow_provider_flyte.watch import ExecutionWatcher

PROJECT, DOMAIN = "flytesnacks", "development"
PHASE = core_execution_pb2.WorkflowExecution.Phase


class Admin(admin_pb2_grpc.AdminServiceServicer):
    def __init__(self) -> None:
        self.phase = PHASE.RUNNING
        self.calls = 0

    def _execution(self, name: str) -> execution_pb2.Execution:
        pb = execution_pb2.Execution(
            id=identifier_pb2.WorkflowExecutionIdentifier(project=PROJECT, domain=DOMAIN, name=name)
        )
        pb.closure.phase = self.phase
        return pb

    def GetExecution(self, request: Any, context: Any) -> Any:
        self.calls += 1
        return self._execution(request.id.name)

    def ListExecutions(self, request: Any, context: Any) -> Any:
        self.calls += 1
        names = request.filters[len("value_in(execution_name,") : -1].split(";")
        return execution_pb2.ExecutionList(executions=[self._execution(name) for name in names])


async def coalesced_tick(
    client: AsyncFlyteClient, admin: Admin, ids: list[WorkflowExecutionIdentifier]
) -> dict[str, float]:
    watcher = ExecutionWatcher(client)
    async with contextlib.AsyncExitStack() as stack:
        subscriptions = [await stack.enter_async_context(watcher.subscribe(i, 3600.0)) for i in ids]
        admin.calls = 0
        wall, cpu = time.perf_counter(), time.process_time()
        for subscription in subscriptions:
            await subscription.next()
        result = {"rpcs": admin.calls, "wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}
        admin.phase = PHASE.SUCCEEDED
        changed = time.perf_counter()
        await watcher.poll_once()
        for subscription in subscriptions:
            assert (await subscription.next()).phase == "SUCCEEDED"
        result["latency"] = time.perf_counter() - changed
        admin.phase = PHASE.RUNNING
    return result


async def _get_all(client: AsyncFlyteClient, ids: list[WorkflowExecutionIdentifier]) -> list[Any]:
    in_flight = asyncio.Semaphore(100)

    async def get(execution_id: WorkflowExecutionIdentifier) -> Any:
        async with in_flight:
            return await client.get_execution(execution_id)

    return await asyncio.gather(*(get(i) for i in ids))


async def per_trigger_tick(
    client: AsyncFlyteClient, admin: Admin, ids: list[WorkflowExecutionIdentifier]
) -> dict[str, float]:
    admin.calls = 0
    wall, cpu = time.perf_counter(), time.process_time()
    await _get_all(client, ids)
    result = {"rpcs": admin.calls, "wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}
    admin.phase = PHASE.SUCCEEDED
    changed = time.perf_counter()
    executions = await _get_all(client, ids)
    assert all(e.closure.phase == PHASE.SUCCEEDED for e in executions)
    result["latency"] = time.perf_counter() - changed
    admin.phase = PHASE.RUNNING
    return result


async def main(sizes: list[int]) -> None:
    admin = Admin()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    admin_pb2_grpc.add_AdminServiceServicer_to_server(admin, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    client = AsyncFlyteClient(PlatformConfig.for_endpoint(f"127.0.0.1:{port}", insecure=True))
    try:
        print(f"{'N':>7} {'mode':<12} {'RPCs/tick':>10} {'wall s':>8} {'CPU s':>8} {'latency s':>10}")
        for size in sizes:
            ids = [WorkflowExecutionIdentifier(PROJECT, DOMAIN, f"run-{index}") for index in range(size)]
            rows = {
                "per-trigger": await per_trigger_tick(client, admin, ids),
                "coalesced": await coalesced_tick(client, admin, ids),
            }
            for mode, row in rows.items():
                print(
                    f"{size:>7} {mode:<12} {row['rpcs']:>10.0f} {row['wall']:>8.3f} {row['cpu']:>8.3f} "
                    f"{row['latency']:>10.3f}"
                )
            base, ours = rows["per-trigger"], rows["coalesced"]
            print(
                f"{size:>7} ratio (per-trigger / coalesced): RPCs x{base['rpcs'] / ours['rpcs']:.0f}, "
                f"wall x{base['wall'] / ours['wall']:.1f}, CPU x{base['cpu'] / ours['cpu']:.1f}, "
                f"latency x{base['latency'] / ours['latency']:.1f}"
            )
    finally:
        await client.close()
        server.stop(grace=None)


if __name__ == "__main__":
    asyncio.run(main([int(arg) for arg in sys.argv[1:]] or [1000, 10000]))
