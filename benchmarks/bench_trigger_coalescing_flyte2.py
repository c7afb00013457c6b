"""Flyte 2 runs watched from one event loop: the coalescing run watcher vs one ``GetRunDetails`` per trigger.

Run: ``python benchmarks/bench_trigger_coalescing_flyte2.py [--sizes 50 500] [--ticks 5] [--tick 1]``

The Flyte 2 sandbox runs in a child process (real gRPC on loopback, its CPU apart from the measured side). For each
N, N runs that hang until aborted are created, then watched for ``--ticks`` poll intervals of ``--tick`` seconds:

* **coalesced**: an ``ExecutionWatcher`` with the Flyte 2 backend, N subscriptions (what N ``Flyte2RunTrigger`` of
  one connection share): one ``ListRuns`` per project/domain per tick;
* **baseline**: N coroutines calling ``GetRunDetails`` and sleeping the poll interval (the trigger before coalescing).

Printed per path: RPCs per tick and the watching process's CPU over the measured ticks (a share of one core). The
benchmark prints and never fails: machines are shared and noisy. This is the Flyte 2 companion of
``bench_trigger_coalescing.py`` (kept apart: that one drives a fake Flyte 1 Admin).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import time
from collections import Counter
from multiprocessing.connection import Connection
from typing import Any

PROJECT, DOMAIN, TASK = "flytesnacks", "development", "bench.hang"


def serve_sandbox(control: Connection) -> None:
    """Child process: a Flyte 2 sandbox whose ``bench.hang`` task hangs until aborted; answers its endpoint."""
    from flyte_admin_sandbox.v2.server import Flyte2Sandbox

    with Flyte2Sandbox() as sandbox:
        sandbox.behave(TASK, hang=True)
        control.send(sandbox.grpc_endpoint)
        control.recv()  # until the parent is done


def deploy_and_start(endpoint: str, names: list[str]) -> None:
    """Deploy the task and create the runs (they stay RUNNING)."""
    from flyteidl2.task import task_service_pb2

    from airflow_provider_flyte.clients.v2 import Flyte2Client
    from tests.sandbox_v2.v2_helpers import inputs, spec, task_id

    with Flyte2Client(endpoint, insecure=True) as client:
        request = task_service_pb2.DeployTaskRequest(task_id=task_id(TASK, "v1"), spec=spec(TASK, "v1"))
        client.raw.task_service.DeployTask(request)
        for name in names:
            client.create_run(PROJECT, DOMAIN, name, task_id=(TASK, "v1"), inputs=inputs(x=1))


def counting(client: Any) -> Counter[str]:
    """Count the calls of the client's ``list_runs`` and ``get_run_details`` (each one RPC here)."""
    calls: Counter[str] = Counter()
    for method in ("list_runs", "get_run_details"):
        real = getattr(client, method)

        async def spy(*args: Any, _real: Any = real, _method: str = method, **kwargs: Any) -> Any:
            calls[_method] += 1
            return await _real(*args, **kwargs)

        setattr(client, method, spy)
    return calls


async def coalesced(endpoint: str, names: list[str], tick: float, ticks: int) -> tuple[Counter[str], float]:
    """Watch the runs through one watcher; the calls and CPU seconds of the measured ticks."""
    import contextlib

    from airflow_provider_flyte.clients.v2.aio import AsyncFlyte2Client
    from airflow_provider_flyte.watch import FLYTE2, ExecutionWatcher

    async with AsyncFlyte2Client(endpoint, insecure=True) as client:
        calls = counting(client)
        async with ExecutionWatcher(client, backend=FLYTE2) as watcher, contextlib.AsyncExitStack() as stack:
            subscriptions = [
                await stack.enter_async_context(watcher.subscribe(f"{PROJECT}:{DOMAIN}:{name}", tick)) for name in names
            ]
            for subscription in subscriptions:
                await subscription.next(timeout=30)  # the first looks are done
            calls.clear()
            cpu = time.process_time()
            await asyncio.sleep(tick * ticks)
            return calls, time.process_time() - cpu


async def baseline(endpoint: str, names: list[str], tick: float, ticks: int) -> tuple[Counter[str], float]:
    """Poll each run with its own ``GetRunDetails`` every tick; the calls and CPU seconds of the measured ticks."""
    from airflow_provider_flyte.clients.v2.aio import AsyncFlyte2Client

    async with AsyncFlyte2Client(endpoint, insecure=True) as client:
        calls = counting(client)

        async def poll(name: str, offset: float) -> None:
            await asyncio.sleep(offset)  # triggers deferred at different moments
            while True:
                await client.get_run_details(f"{PROJECT}:{DOMAIN}:{name}")
                await asyncio.sleep(tick)

        tasks = [asyncio.ensure_future(poll(name, tick * i / len(names))) for i, name in enumerate(names)]
        await asyncio.sleep(tick)  # every poller started
        calls.clear()
        cpu = time.process_time()
        await asyncio.sleep(tick * ticks)
        spent = time.process_time() - cpu
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return calls, spent


def main() -> None:
    """Run both paths for each size and print RPCs per tick and CPU."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 500])
    parser.add_argument("--ticks", type=int, default=5, help="poll intervals measured per path")
    parser.add_argument("--tick", type=float, default=1.0, help="the poll interval, in seconds")
    options = parser.parse_args()
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve_sandbox, args=(child,), daemon=True)
    server.start()
    endpoint = parent.recv()
    print(f"Flyte 2 sandbox at {endpoint}; {options.ticks} ticks of {options.tick} s per path")
    print(f"{'N':>6} {'path':>10} {'ListRuns/tick':>14} {'GetRunDetails/tick':>19} {'CPU % of a core':>16}")
    try:
        for size in options.sizes:
            names = [f"bench-{size}-{i}" for i in range(size)]
            deploy_and_start(endpoint, names)
            for path, measure in (("baseline", baseline), ("coalesced", coalesced)):
                calls, cpu = asyncio.run(measure(endpoint, names, options.tick, options.ticks))
                print(
                    f"{size:>6} {path:>10} {calls['list_runs'] / options.ticks:>14.1f} "
                    f"{calls['get_run_details'] / options.ticks:>19.1f} "
                    f"{100 * cpu / (options.tick * options.ticks):>16.1f}"
                )
    finally:
        parent.send("stop")
        server.join(timeout=10)


if __name__ == "__main__":
    main()
