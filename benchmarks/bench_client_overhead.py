"""Client CPU per GetExecution: our raw clients (sync and grpc.aio) against bare flyteidl stubs.

Run: ``python benchmarks/bench_client_overhead.py [--calls 1000] [--rounds 11]``

The servicer runs in a child process, so ``time.process_time`` here measures only the client side: channel,
stub, serialization and, for our clients, the interceptors (default metadata, per-attempt deadline, error
mapping; no auth). Bare and ours alternate over several rounds on the same server and the median per-call CPU of
each is compared. Targets: ours <= 1.2x the bare stub (sync), <= 1.1x (grpc.aio).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from concurrent import futures
from typing import Any

TARGET_RATIO = {"sync": 1.2, "grpc.aio": 1.1}
"""Most client CPU per call, as a multiple of the bare stub's (the asyncio client serves the triggerer: tighter)."""


def serve() -> None:
    """Child process: a minimal AdminService answering GetExecution; prints its port, runs until stdin closes."""
    import grpc
    from flyteidl.admin import execution_pb2
    from flyteidl.service import admin_pb2_grpc

    class Admin(admin_pb2_grpc.AdminServiceServicer):  # type: ignore[misc]
        def GetExecution(self, request: Any, context: Any) -> Any:
            return execution_pb2.Execution(id=request.id)

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    admin_pb2_grpc.add_AdminServiceServicer_to_server(Admin(), server)  # type: ignore[no-untyped-call]
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    sys.stdin.read()
    server.stop(grace=None)


def cpu_per_call(call: Callable[[], Any], calls: int) -> float:
    start = time.process_time()
    for _ in range(calls):
        call()
    return (time.process_time() - start) / calls


async def cpu_per_call_async(call: Callable[[], Awaitable[Any]], calls: int) -> float:
    start = time.process_time()
    for _ in range(calls):
        await call()
    return (time.process_time() - start) / calls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=1000, help="calls per measurement")
    parser.add_argument("--rounds", type=int, default=11, help="alternating rounds (median is reported)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return 0

    import grpc
    import grpc.aio
    from flyteidl.admin import execution_pb2
    from flyteidl.core import identifier_pb2
    from flyteidl.service import admin_pb2_grpc

    from airflow_provider_flyte.clients.raw import RawAsyncFlyteClient, RawSynchronousFlyteClient
    from airflow_provider_flyte.configuration import PlatformConfig

    child = subprocess.Popen(
        [sys.executable, __file__, "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        endpoint = f"127.0.0.1:{child.stdout.readline().strip()}"
        config = PlatformConfig(endpoint=endpoint, insecure=True)
        request = execution_pb2.WorkflowExecutionGetRequest(
            id=identifier_pb2.WorkflowExecutionIdentifier(project="flytesnacks", domain="development", name="f1")
        )
        warmup = max(200, args.calls // 10)

        bare_channel = grpc.insecure_channel(endpoint)
        bare: Any = admin_pb2_grpc.AdminServiceStub(bare_channel)  # type: ignore[no-untyped-call]
        ours = RawSynchronousFlyteClient(config)
        sync_results: dict[str, list[float]] = {"bare": [], "ours": []}
        cpu_per_call(lambda: bare.GetExecution(request, timeout=30), warmup)
        cpu_per_call(lambda: ours.admin_service.GetExecution(request), warmup)
        for round_number in range(args.rounds):  # alternate the order so drifting machine load hits both alike
            order = ("bare", "ours") if round_number % 2 == 0 else ("ours", "bare")
            for label in order:
                call = (
                    (lambda: bare.GetExecution(request, timeout=30))
                    if label == "bare"
                    else (lambda: ours.admin_service.GetExecution(request))
                )
                sync_results[label].append(cpu_per_call(call, args.calls))
        ours.close()
        bare_channel.close()

        async def run_async() -> dict[str, list[float]]:
            results: dict[str, list[float]] = {"bare": [], "ours": []}
            channel = grpc.aio.insecure_channel(endpoint)
            bare_stub: Any = admin_pb2_grpc.AdminServiceStub(channel)  # type: ignore[no-untyped-call]
            raw = RawAsyncFlyteClient(config)
            await cpu_per_call_async(lambda: bare_stub.GetExecution(request, timeout=30), warmup)
            await cpu_per_call_async(lambda: raw.admin_service.GetExecution(request), warmup)
            for round_number in range(args.rounds):
                order = ("bare", "ours") if round_number % 2 == 0 else ("ours", "bare")
                for label in order:
                    call = (
                        (lambda: bare_stub.GetExecution(request, timeout=30))
                        if label == "bare"
                        else (lambda: raw.admin_service.GetExecution(request))
                    )
                    results[label].append(await cpu_per_call_async(call, args.calls))
            await raw.close()
            await channel.close()
            return results

        async_results = asyncio.run(run_async())
    finally:
        if child.stdin is not None:
            child.stdin.close()
        child.wait(timeout=30)

    ok = True
    print(
        f"client CPU per GetExecution, median of {args.rounds} rounds x {args.calls} calls"
        f" (targets: sync <= {TARGET_RATIO['sync']}x, grpc.aio <= {TARGET_RATIO['grpc.aio']}x)"
    )
    for label, results in (("sync", sync_results), ("grpc.aio", async_results)):
        bare_us = statistics.median(results["bare"]) * 1e6
        ours_us = statistics.median(results["ours"]) * 1e6
        ratio = ours_us / bare_us
        verdict = "ok" if ratio <= TARGET_RATIO[label] else "OVER TARGET"
        ok = ok and ratio <= TARGET_RATIO[label]
        print(f"  {label:9s} bare {bare_us:7.1f} us   ours {ours_us:7.1f} us   ratio {ratio:.2f}x  {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
