"""Triggerer under load: N deferred Flyte tasks watched by one triggerer, coalesced vs one GetExecution per trigger.

Run: ``python benchmarks/bench_trigger_coalescing.py [--sizes 1000 10000 100000] [--window 30] [--tick 10]``

For each N, each path runs in a fresh "triggerer" process (one asyncio loop, like Airflow's triggerer) against a fake
Flyte Admin in a child process of its own, over real gRPC on loopback, so the two sides' CPU times are separate:

* **coalesced**: the real ``FlyteExecutionTrigger`` (``--driver trigger``, the default: Airflow connection
  ``flyte_default`` from ``AIRFLOW_CONN_FLYTE_DEFAULT``, each trigger's ``run()`` iterated as the triggerer does), all
  sharing the connection's ``ExecutionWatcher``; ``--driver watcher`` uses the watcher's ``subscribe``/``next`` loop
  the trigger uses, without Airflow;
* **baseline**: one coroutine per trigger that calls ``GetExecution`` and sleeps the poll interval until the execution
  is terminal (as independent triggers polling on their own would), on the same shared channel; the N triggers that
  are already deferred when the measurement starts began at random offsets within one poll interval, newcomers poll
  at once.

The workload: N executions are watched (all RUNNING); during the measured window of ``--window`` seconds new
triggers arrive at ``--arrivals`` per second (new RUNNING executions: each one is a new subscription), and watched
executions finish at ``--finishes`` per second at random times. Admin holds each execution's finish time (sent by the
triggerer process before the window opens) and reports it SUCCEEDED from that moment on, so the detection latency is
measured from the moment Admin marks the execution terminal to the trigger's event (``time.time()`` on both sides of
one machine). Finish times lie within the window less one tick, so each event is due within the window.

Reported per path, over the window: triggerer CPU (the triggerer process only: Python, asyncio and gRPC's threads;
beside it, what the loop cost idle with only the lag probe running, measured for 2 s before the triggers started)
and Admin CPU, each as a share of one core; RPCs per second; watcher ticks and first looks; detection latency median
and p99; event-loop lag (a probe sleeps 10 ms and records how late it wakes): max and p99; memory per watched
execution (the triggerer's RSS growth from before the N triggers started to the start of the window, over N).
Ratios are baseline / coalesced of the same run. The goals of issue 13 are printed last, measured beside target.

Admin's executions have the shape a real Admin lists for a run an Airflow task launched (spec with launch plan,
labels, annotations, security context; closure with timestamps, workflow id, state change details): about 500
bytes, printed in the header. Listing costs grow with that size. The benchmark prints and never fails: machines are
shared and noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

PROJECT, DOMAIN = "flytesnacks", "development"
CONN_ID = "flyte_default"
FILTER_PREFIX = "value_in(execution_name,"
PROBE_SLEEP = 0.01
IDLE_SECONDS = 2.0


# ---------------------------------------------------------------------------------------------- the fake Admin


def _message(name: str, terminal: bool) -> Any:
    """An execution of the shape a real Admin lists for a run an Airflow task launched (about 600 bytes)."""
    from flyteidl.admin import execution_pb2
    from flyteidl.core import execution_pb2 as core_execution_pb2
    from flyteidl.core import identifier_pb2

    phase = core_execution_pb2.WorkflowExecution.Phase
    execution = execution_pb2.Execution()
    execution.id.project, execution.id.domain, execution.id.name = PROJECT, DOMAIN, name
    spec = execution.spec
    spec.launch_plan.resource_type = identifier_pb2.LAUNCH_PLAN
    spec.launch_plan.project, spec.launch_plan.domain = PROJECT, DOMAIN
    spec.launch_plan.name, spec.launch_plan.version = "analytics.workflows.daily_report", "v2024-06-01-a1b2c3d4"
    spec.metadata.principal, spec.metadata.nesting = "airflow", 0
    spec.metadata.system_metadata.execution_cluster, spec.metadata.system_metadata.namespace = "prod-1", "flyte-prod"
    spec.labels.values.update({"airflow-dag-id": "daily_report", "airflow-task-id": "train", "team": "analytics"})
    spec.annotations.values["airflow-run-id"] = "scheduled__2024-06-01T00:00:00+00:00"
    spec.security_context.run_as.k8s_service_account = "flyte-workers"
    spec.raw_output_data_config.output_location_prefix = f"s3://flyte-data/raw/{PROJECT}/{DOMAIN}"
    spec.max_parallelism = 25
    closure = execution.closure
    closure.workflow_id.CopyFrom(spec.launch_plan)
    closure.workflow_id.resource_type = identifier_pb2.WORKFLOW
    closure.created_at.FromSeconds(1_717_200_000)
    closure.started_at.FromSeconds(1_717_200_003)
    closure.updated_at.FromSeconds(1_717_200_042)
    closure.state_change_details.state = execution_pb2.EXECUTION_ACTIVE
    closure.state_change_details.occurred_at.FromSeconds(1_717_200_000)
    closure.state_change_details.principal = "airflow"
    closure.phase = phase.SUCCEEDED if terminal else phase.RUNNING
    if terminal:
        closure.duration.FromSeconds(42)
        closure.outputs.uri = f"s3://flyte-data/metadata/{PROJECT}/{DOMAIN}/{name}/end-node/data/0/outputs.pb"
    return execution


class Admin:
    """Executions whose phase follows a schedule: RUNNING until their finish time, SUCCEEDED from then on."""

    def __init__(self) -> None:
        self.finish_at: dict[str, float] = {}
        self.calls: Counter[str] = Counter()
        self.seen: set[str] = set()
        self._messages: dict[tuple[str, bool], Any] = {}
        self._lock = threading.Lock()

    def _lookup(self, name: str, now: float) -> Any:
        finish = self.finish_at.get(name)
        if finish is None:
            return None
        key = (name, now >= finish)
        message = self._messages.get(key)
        if message is None:
            message = self._messages[key] = _message(*key)
        return message

    def GetExecution(self, request: Any, context: Any) -> Any:
        import grpc

        with self._lock:
            self.calls["GetExecution"] += 1
        found = self._lookup(request.id.name, time.time())
        if found is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"missing entity of type execution with identifier {request.id}")
        self.seen.add(request.id.name)
        return found

    def ListExecutions(self, request: Any, context: Any) -> Any:
        import grpc
        from flyteidl.admin import execution_pb2

        with self._lock:
            self.calls["ListExecutions"] += 1
        if not (request.filters.startswith(FILTER_PREFIX) and request.filters.endswith(")")):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"unexpected filters {request.filters[:80]!r}")
        now = time.time()
        names = request.filters[len(FILTER_PREFIX) : -1].split(";")[: request.limit or 100]
        found = [message for name in names if (message := self._lookup(name, now)) is not None]
        self.seen.update(message.id.name for message in found)
        return execution_pb2.ExecutionList(executions=found)


def serve_admin(control: Connection) -> None:
    """The Admin process: a gRPC server, and commands from the triggerer process on ``control``."""
    from concurrent import futures

    import grpc
    from flyteidl.service import admin_pb2_grpc

    admin = Admin()
    servicer = type("Servicer", (admin_pb2_grpc.AdminServiceServicer,), {})()
    servicer.GetExecution, servicer.ListExecutions = admin.GetExecution, admin.ListExecutions
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    admin_pb2_grpc.add_AdminServiceServicer_to_server(servicer, server)
    control.send(server.add_insecure_port("127.0.0.1:0"))
    server.start()
    while True:
        command, payload = control.recv()
        if command == "executions":  # {name: finish time}, math.inf for never
            admin.finish_at.update(payload)
            control.send(None)
        elif command == "seen":
            control.send(len(admin.seen))
        elif command == "mark":
            with admin._lock:
                control.send({"cpu": time.process_time(), "calls": dict(admin.calls)})
        else:
            server.stop(grace=None)
            control.send(None)
            return


def _ask(control: Connection, command: str, payload: Any = None) -> Any:
    control.send((command, payload))
    return control.recv()


# ---------------------------------------------------------------------------------------- the triggerer side


def _rss() -> int:
    gc.collect()
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def _lag_probe(samples: list[tuple[float, float]]) -> None:
    """Sleep 10 ms over and over, recording (when, how late) each wake-up was."""
    loop = asyncio.get_running_loop()
    while True:
        asked = loop.time()
        await asyncio.sleep(PROBE_SLEEP)
        samples.append((time.time(), loop.time() - asked - PROBE_SLEEP))


class Triggerer:
    """One path (``baseline`` or ``coalesced``) watching the executions it is told to, recording event times."""

    def __init__(self, mode: str, driver: str, tick: float, endpoint: str) -> None:
        self.mode, self.driver, self.tick, self.endpoint = mode, driver, tick, endpoint
        self.events: dict[str, float] = {}
        self.statuses: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.tasks: list[asyncio.Task[None]] = []
        self.client: Any = None
        self.watcher: Any = None

    async def start(self) -> None:
        """Import and connect what the path needs (outside the measurements)."""
        from airflow_provider_flyte.configuration import PlatformConfig

        if self.driver == "trigger":
            from airflow_provider_flyte.hooks.flyte import FlyteAsyncHook

            config = (await FlyteAsyncHook(CONN_ID).get_settings()).config
        else:
            config = PlatformConfig.for_endpoint(self.endpoint, insecure=True)
        from airflow_provider_flyte.watch import ExecutionWatcher, shared_async_client, watcher_for

        self.client = shared_async_client(CONN_ID, config)
        if self.driver == "trigger":
            self.watcher = watcher_for(CONN_ID, config)  # the one every FlyteExecutionTrigger of the loop will use
        else:
            self.watcher = ExecutionWatcher(self.client)

    def watch(self, name: str, offset: float = 0.0) -> None:
        """Start one trigger for execution ``name`` (a baseline one first sleeps ``offset`` seconds)."""
        loop = asyncio.get_running_loop()
        if self.mode == "baseline":
            self.tasks.append(loop.create_task(self._per_trigger_polls(name, offset)))
        elif self.driver == "trigger":
            self.tasks.append(loop.create_task(self._real_trigger(name)))
        else:
            self.tasks.append(loop.create_task(self._watcher_loop(name)))

    def _record(self, name: str, status: str) -> None:
        self.events[name] = time.time()
        self.statuses[status] += 1

    async def _real_trigger(self, name: str) -> None:
        from airflow_provider_flyte.triggers.flyte import FlyteExecutionTrigger

        trigger = FlyteExecutionTrigger(f"ex:{PROJECT}:{DOMAIN}:{name}", CONN_ID, poll_interval=self.tick)
        async for event in trigger.run():
            self._record(name, event.payload["status"])

    async def _watcher_loop(self, name: str) -> None:
        from airflow_provider_flyte.watch import WatchError

        try:
            async with self.watcher.subscribe(f"ex:{PROJECT}:{DOMAIN}:{name}", self.tick) as subscription:
                while not (await subscription.next()).is_terminal:
                    pass
        except WatchError as error:
            self.errors[str(error)[:60]] += 1
            self._record(name, "error")
        else:
            self._record(name, "success")

    async def _per_trigger_polls(self, name: str, offset: float) -> None:
        from airflow_provider_flyte.exceptions import FlyteException
        from airflow_provider_flyte.identifiers import WorkflowExecutionIdentifier
        from airflow_provider_flyte.watch import ExecutionSnapshot

        execution_id = WorkflowExecutionIdentifier(PROJECT, DOMAIN, name)
        await asyncio.sleep(offset)
        while True:
            try:
                execution = await self.client.get_execution(execution_id)
            except FlyteException as error:  # a trigger rides errors out until its next poll
                self.errors[type(error).__name__] += 1
            else:
                if ExecutionSnapshot.from_execution(execution, execution_id).is_terminal:
                    self._record(name, "success")
                    return
            await asyncio.sleep(self.tick)

    def watcher_stats(self) -> dict[str, int]:
        """The shared watcher's counters (none for the baseline)."""
        if self.mode == "baseline" or self.watcher is None:
            return {}
        return dict(vars(self.watcher.stats))

    async def stop(self) -> None:
        """Cancel every trigger and close the client."""
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.driver == "watcher" and self.watcher is not None:
            await self.watcher.aclose()
        await self.client.close()


async def _wait_until_seen(control: Connection, count: int, limit: float) -> None:
    """Wait until Admin answered about ``count`` executions (each trigger had its first look), then a second more."""
    deadline = time.time() + limit
    for _ in range(math.ceil(limit / 0.5)):
        if time.time() > deadline or await asyncio.to_thread(_ask, control, "seen") >= count:
            break
        await asyncio.sleep(0.5)
    await asyncio.sleep(1.0)


def _plan(options: argparse.Namespace, size: int) -> tuple[list[str], list[str], float, int]:
    """Names of the N watched at the start and of the newcomers; the seconds in which finishes happen, how many."""
    arrivals = round(options.arrivals * options.window)
    names = [f"bench-{index:06d}" for index in range(size + arrivals)]
    span = max(options.window - options.tick - 2.0, options.window / 2)  # events due before the window closes
    return names[:size], names[size:], span, min(size, round(options.finishes * span))


async def _arrive(triggerer: Triggerer, newcomers: list[str], start: float, rate: float) -> None:
    for index, name in enumerate(newcomers):
        await asyncio.sleep(max(0.0, start + (index + 0.5) / rate - time.time()))
        triggerer.watch(name)


async def measure(
    options: argparse.Namespace, mode: str, size: int, control: Connection, endpoint: str
) -> dict[str, Any]:
    """Run one path for one N and return what it measured."""
    began = time.time()
    rng = random.Random(f"{options.seed}-{size}")
    initial, newcomers, span, finishing = _plan(options, size)
    _ask(control, "executions", dict.fromkeys(["warm-up", *initial, *newcomers], math.inf) | {"warm-up": 0.0})
    triggerer = Triggerer(mode, options.driver, options.tick, endpoint)
    await triggerer.start()
    triggerer.watch("warm-up")  # imports done and memory allocated once before the memory baseline
    await asyncio.wait_for(asyncio.gather(*triggerer.tasks), 30)
    await triggerer.start()  # the warm-up's watcher went idle and released its client: fresh ones, as in a triggerer
    triggerer.events.clear()
    triggerer.statuses.clear()
    lags: list[tuple[float, float]] = []
    probe = asyncio.get_running_loop().create_task(_lag_probe(lags))
    idle = time.process_time()
    await asyncio.sleep(IDLE_SECONDS)  # what the probe and an idle loop cost, to read the CPU rows against
    idle = (time.process_time() - idle) / IDLE_SECONDS
    rss = _rss()
    for name in initial:
        triggerer.watch(name, rng.uniform(0.0, options.tick))
    await _wait_until_seen(control, size + 1, options.tick * 3 + size / 1000)  # the warm-up's and the N
    grown = _rss() - rss

    start = time.time() + 0.5
    finish_at = {name: start + rng.uniform(0.0, span) for name in rng.sample(initial, finishing)}
    await asyncio.to_thread(_ask, control, "executions", finish_at)
    arrivals = asyncio.get_running_loop().create_task(_arrive(triggerer, newcomers, start, options.arrivals))
    await asyncio.sleep(start - time.time())
    # Admin is asked from a worker thread: a blocking pipe round trip on the loop would count as loop lag.
    admin_before = await asyncio.to_thread(_ask, control, "mark")
    cpu, stats, opened = time.process_time(), triggerer.watcher_stats(), time.time()
    profiler = _profiler(options)
    await asyncio.sleep(start + options.window - time.time())
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(Path(options.profile) / f"{mode}-{size}.prof")
    cpu, seconds = time.process_time() - cpu, time.time() - opened
    admin_after = await asyncio.to_thread(_ask, control, "mark")
    stats = {key: value - stats.get(key, 0) for key, value in triggerer.watcher_stats().items()}
    for _ in range(math.ceil((options.tick + 5) / 0.2)):  # the last few events (not counted in CPU or RPCs)
        if all(name in triggerer.events for name in finish_at):
            break
        await asyncio.sleep(0.2)
    probe.cancel()
    arrivals.cancel()
    await triggerer.stop()
    calls = Counter(admin_after["calls"])
    calls.subtract(admin_before["calls"])
    window = [lag for when, lag in lags if opened <= when <= opened + seconds]
    return {
        "mode": mode,
        "size": size,
        "seconds": seconds,
        "setup": start - began,
        "cpu": cpu,
        "admin_cpu": admin_after["cpu"] - admin_before["cpu"],
        "idle_cpu": idle,
        "calls": dict(calls),
        "stats": stats,
        "latencies": sorted(triggerer.events[name] - at for name, at in finish_at.items() if name in triggerer.events),
        "scheduled": len(finish_at),
        "statuses": dict(triggerer.statuses),
        "errors": dict(triggerer.errors),
        "lag_max": max(window, default=math.nan),
        "lag_p99": _percentile(sorted(window), 0.99),
        "memory": grown / size,
        "newcomers": len(newcomers),
    }


def _profiler(options: argparse.Namespace) -> Any:
    if not options.profile:
        return None
    import cProfile

    profiler = cProfile.Profile()
    profiler.enable()
    return profiler


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return math.nan
    return values[min(len(values) - 1, math.ceil(fraction * len(values)) - 1)]


def triggerer_process(options: argparse.Namespace, mode: str, size: int, results: Connection) -> None:
    """A triggerer process: starts its Admin process, measures one path, sends the result to the orchestrator."""
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")  # no C-core notice when the Admin process stops
    context = multiprocessing.get_context("spawn")
    control, admin_end = context.Pipe()
    admin = context.Process(target=serve_admin, args=(admin_end,), name="fake-admin")
    admin.start()
    endpoint = f"127.0.0.1:{control.recv()}"
    home = tempfile.mkdtemp(prefix="bench-trigger-airflow-")
    os.environ.update(AIRFLOW_HOME=home, AIRFLOW__CORE__LOAD_EXAMPLES="False")
    host, port = endpoint.rsplit(":", 1)
    connection = {"conn_type": "flyte", "host": host, "port": int(port), "extra": {"insecure": True}}
    os.environ[f"AIRFLOW_CONN_{CONN_ID.upper()}"] = json.dumps(connection)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - Airflow's loggers write to stdout; results go through a pipe
    try:
        results.send(asyncio.run(measure(options, mode, size, control, endpoint)))
    except BaseException as error:
        results.send({"mode": mode, "size": size, "failed": f"{type(error).__name__}: {error}"})
        raise
    finally:
        _ask(control, "stop")
        admin.join(10)


# --------------------------------------------------------------------------------------------- the report


def _run(options: argparse.Namespace, mode: str, size: int) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=triggerer_process, args=(options, mode, size, send), name=f"triggerer-{mode}")
    process.start()
    send.close()
    try:
        result: dict[str, Any] = receive.recv()
    except EOFError:
        result = {"mode": mode, "size": size, "failed": f"the triggerer process exited with {process.exitcode}"}
    process.join(60)
    return result


def _fmt(value: float, digits: int = 2) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:,.{digits}f}"


def _rows(result: dict[str, Any]) -> dict[str, float]:
    seconds, calls, stats = result["seconds"], result["calls"], result["stats"]
    latencies = result["latencies"]
    return {
        "triggerer CPU, % of a core": 100 * result["cpu"] / seconds,
        "  of which idle loop + lag probe": 100 * result["idle_cpu"],
        "Admin CPU, % of a core": 100 * result["admin_cpu"] / seconds,
        "RPCs per second": sum(calls.values()) / seconds,
        "  ListExecutions per second": calls.get("ListExecutions", 0) / seconds,
        "  GetExecution per second": calls.get("GetExecution", 0) / seconds,
        "ticks in the window": stats.get("ticks", math.nan),
        "first looks in the window": stats.get("first_looks", math.nan),
        "wakeups in the window": stats.get("wakeups", math.nan),
        "detection median, s": statistics.median(latencies) if latencies else math.nan,
        "detection p99, s": _percentile(latencies, 0.99),
        "detection max, s": max(latencies, default=math.nan),
        "event-loop lag max, s": result["lag_max"],
        "event-loop lag p99, s": result["lag_p99"],
        "memory per watched execution, KiB": result["memory"] / 1024,
    }


def report(options: argparse.Namespace, size: int, results: dict[str, dict[str, Any]]) -> None:
    """Print one N's table: each path, and baseline / coalesced."""
    label = "the real FlyteExecutionTrigger" if options.driver == "trigger" else "the watcher's subscribe/next loop"
    print(
        f"\nN = {size:,} watched: tick {options.tick:g} s, window {options.window:g} s, "
        f"{options.arrivals:g} new triggers/s, {options.finishes:g} finishes/s"
    )
    print(f"  coalesced: {label} on the shared watcher; baseline: one GetExecution per trigger per tick, paced")
    for result in results.values():
        if "failed" in result:
            print(f"  {result['mode']}: FAILED {result['failed']}")
    rows = {mode: _rows(result) for mode, result in results.items() if "failed" not in result}
    modes = [mode for mode in ("baseline", "coalesced") if mode in rows]
    print(
        f"  {'':<36}" + "".join(f"{mode:>12}" for mode in modes) + ("   baseline/coalesced" if len(modes) == 2 else "")
    )
    for key in rows[modes[0]] if modes else ():
        values = [rows[mode][key] for mode in modes]
        digits = 3 if "lag" in key else 2
        line = f"  {key:<36}" + "".join(f"{_fmt(value, digits):>12}" for value in values)
        if len(modes) == 2 and all(v and not math.isnan(v) for v in values):
            line += f"   x{values[0] / values[1]:,.1f}"
        print(line)
    for mode in modes:
        result = results[mode]
        found = len(result["latencies"])
        print(
            f"  {mode}: {found}/{result['scheduled']} finishes detected, {result['newcomers']} newcomers, "
            f"events {result['statuses']}"
            + (f", errors {result['errors']}" if result["errors"] else "")
            + f"; setup took {result['setup']:.0f} s"
        )
    if options.driver == "trigger":
        print("  memory: coalesced counts each trigger (object, task, subscription); baseline a bare coroutine each")


def goals(options: argparse.Namespace, everything: dict[int, dict[str, dict[str, Any]]]) -> None:
    """Print the triggerer goals of issue 13 beside what this run measured."""
    tick = options.tick
    print(f"\nGoals (issue 13), tick {tick:g} s, measured in this run:")
    print(f"  {'goal':<58} {'target':>16} {'measured':>22}  met")

    def line(goal: str, target: str, measured: str, met: bool | None) -> None:
        verdict = "-" if met is None else ("yes" if met else "NO")
        print(f"  {goal:<58} {target:>16} {measured:>22}  {verdict}")

    expected = options.window / tick
    for size, results in everything.items():
        coalesced = results.get("coalesced", {})
        if "stats" not in coalesced:
            continue
        ticks = coalesced["stats"].get("ticks", 0)
        newcomers = coalesced["newcomers"]
        line(
            f"ticks follow the poll interval, {newcomers} newcomers (N={size:,})",
            f"{expected:.0f} +/- 1",
            f"{ticks} (+{coalesced['stats'].get('first_looks', 0)} first looks)",
            abs(ticks - expected) <= 1,
        )
    for size, results in everything.items():
        coalesced = results.get("coalesced", {})
        if "lag_max" in coalesced and size >= 10_000:
            lag = coalesced["lag_max"]
            line(f"no event-loop stall above 0.1 s (N={size:,})", "<= 0.100 s", f"{lag:.3f} s", lag <= 0.1)
    for size, results in everything.items():
        coalesced = results.get("coalesced", {})
        if "cpu" in coalesced and size >= 100_000:
            share = 100 * coalesced["cpu"] / coalesced["seconds"]
            net = share - 100 * coalesced["idle_cpu"]  # the lag probe and the idle loop are the benchmark's own
            measured = f"{net:.1f} % ({share:.1f} %)"
            line(f"{size:,} watched, CPU of a core (net of the lag probe)", "<= 10 %", measured, net <= 10)
    for size, results in everything.items():
        for mode in ("coalesced", "baseline"):  # the baseline's are printed to compare with, not judged
            if "latencies" not in results.get(mode, {}):
                continue
            latencies = results[mode]["latencies"] or [math.nan]
            median, p99 = statistics.median(latencies), _percentile(latencies, 0.99)
            for label, value, bound in (("median", median, tick / 2 + 1), ("p99", p99, tick + 1)):
                met = value <= bound if mode == "coalesced" else None
                line(f"detection {label}, {mode} (N={size:,})", f"<= {bound:g} s", f"{value:.2f} s", met)


def main() -> None:
    """Measure each N both ways (the baseline up to ``--baseline-max``) and print the tables and goals."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--baseline-max", type=int, default=10_000, help="largest N the baseline runs at")
    parser.add_argument("--window", type=float, default=30.0, help="seconds measured per path")
    parser.add_argument("--tick", type=float, default=10.0, help="the triggers' poll_interval")
    parser.add_argument("--arrivals", type=float, default=2.0, help="new triggers per second")
    parser.add_argument("--finishes", type=float, default=8.0, help="watched executions finishing per second")
    parser.add_argument("--driver", choices=("trigger", "watcher"), default="trigger")
    parser.add_argument("--modes", nargs="+", choices=("baseline", "coalesced"), default=["baseline", "coalesced"])
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--profile", help="write a cProfile of each window's triggerer side to this directory")
    options = parser.parse_args()
    if options.profile:
        Path(options.profile).mkdir(parents=True, exist_ok=True)
    size = _message("bench-000000", False).ByteSize()
    print(f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}; a triggerer and an Admin process per path and N")
    print(f"Admin's executions are {size} bytes each (RUNNING)")
    everything: dict[int, dict[str, dict[str, Any]]] = {}
    for size in options.sizes:
        modes = [m for m in options.modes if m == "coalesced" or size <= options.baseline_max]
        everything[size] = {mode: _run(options, mode, size) for mode in modes}
        report(options, size, everything[size])
    goals(options, everything)


if __name__ == "__main__":
    main()
