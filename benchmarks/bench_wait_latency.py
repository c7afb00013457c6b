"""End-to-end overhead of waiting for a short Flyte run with default settings, sync and deferrable.

Run: ``python benchmarks/bench_wait_latency.py [--run-seconds 0.5] [--repeats 5]``

A run of ``--run-seconds`` (a sandbox task that sleeps) is launched and waited for:

* ``FlyteRemote.wait`` with its defaults;
* the synchronous FlyteOperator with its defaults (``poll_interval=10``: polls start after 0.25 s and double);
* the deferrable FlyteOperator: launch, then FlyteExecutionTrigger in an event loop (the coalesced watcher ticks at
  the trigger's ``poll_interval``, default 10 s), then ``execute_complete``;
* the baseline: the same launch, then a fixed 10 s poll (the operator's behaviour before polls started fast).

For each it prints the median time from the call to the result and the overhead against the run's own duration
(measured from the sandbox's started/finished times). Target: the sync paths report a 0.5 s run within about a
second; the deferrable path within one tick plus a second.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "reliability"))
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="bench-wait-airflow-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")


def _operator(name: str, seconds: float, deferrable: bool) -> Any:
    from airflow_provider_flyte.operators.flyte import FlyteOperator

    return FlyteOperator(
        task_id=name, launchplan_name="reliability.nap", inputs={"seconds": seconds, "fail": ""}, deferrable=deferrable
    )


def _context(name: str) -> dict[str, Any]:
    from fault_matrix import TaskInstance

    return {"ti": TaskInstance(name)}


def sync_operator(name: str, seconds: float) -> None:
    _operator(name, seconds, deferrable=False).execute(_context(name))


def deferrable_operator(name: str, seconds: float) -> None:
    from airflow.providers.common.compat.sdk import TaskDeferred

    operator, context = _operator(name, seconds, deferrable=True), _context(name)
    try:
        operator.execute(context)
    except TaskDeferred as deferred:
        event = asyncio.run(_first_event(deferred.trigger))
        operator.execute_complete(context, event)


async def _first_event(trigger: Any) -> Any:
    async for event in trigger.run():
        return event.payload
    raise AssertionError("no event")


def remote_wait(name: str, seconds: float) -> None:
    with _remote() as remote:
        execution = remote.execute(
            remote.fetch_launch_plan(name="reliability.nap"),
            inputs={"seconds": seconds, "fail": ""},
            execution_name=name,
        )
        remote.wait(execution)


def fixed_ten_second_polls(name: str, seconds: float) -> None:
    with _remote() as remote:
        execution = remote.execute(
            remote.fetch_launch_plan(name="reliability.nap"),
            inputs={"seconds": seconds, "fail": ""},
            execution_name=name,
        )
        while not remote.sync_execution(execution).is_done:
            time.sleep(10.0)


def _remote() -> Any:
    from airflow_provider_flyte.remote import FlyteRemote

    return FlyteRemote(SANDBOX.config, "flytesnacks", "development")


SANDBOX: Any = None
PATHS: dict[str, Callable[[str, float], None]] = {
    "baseline: fixed 10 s polls": fixed_ten_second_polls,
    "FlyteRemote.wait": remote_wait,
    "FlyteOperator (sync)": sync_operator,
    "FlyteOperator (deferrable)": deferrable_operator,
}


def main() -> None:
    """Time each path and print medians and overheads."""
    global SANDBOX
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run-seconds", type=float, default=0.5)
    parser.add_argument("--repeats", type=int, default=5)
    options = parser.parse_args()
    from fault_matrix import matrix_sandbox

    with matrix_sandbox() as sandbox:
        SANDBOX = sandbox
        host, port = sandbox.endpoint.rsplit(":", 1)
        os.environ["AIRFLOW_CONN_FLYTE_DEFAULT"] = (
            f'{{"conn_type": "flyte", "host": "{host}", "port": {port}, '
            '"extra": {"insecure": true, "project": "flytesnacks", "domain": "development"}}'
        )
        report = os.fdopen(os.dup(1), "w", buffering=1)
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # Airflow's task loggers write to stdout
        print(f"a run of {options.run_seconds:g}s, median of {options.repeats}:", file=report)
        baseline = None
        for number, (label, path) in enumerate(PATHS.items()):
            times = []
            for index in range(options.repeats):
                name = f"lat-{number}-{index}-{int(time.time() * 1000) % 10**8}"
                started = time.perf_counter()
                path(name, options.run_seconds)
                times.append(time.perf_counter() - started)
            median = statistics.median(times)
            baseline = baseline or median
            overhead = median - options.run_seconds
            print(
                f"  {label:<28} {median:6.2f} s   overhead {overhead:5.2f} s "
                f"({median / options.run_seconds:4.1f}x the run; baseline / this = {baseline / median:4.1f}x)",
                file=report,
            )


if __name__ == "__main__":
    main()
