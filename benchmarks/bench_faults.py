"""The whole fault matrix, many trials per fault kind: duplicates, lost runs, wrong outcomes, reconnect delay.

Run: ``python benchmarks/bench_faults.py [--trials 20] [--kinds unavailable-3s,admin-restart-4s] [--rounds 2]``

Every fault kind of ``tests/reliability/fault_matrix.py`` (Admin unreachable, overloaded or slow for a few seconds,
an Admin restart with and without the data plane going on, a run that ends or fails while Admin is down, creates that
fail, commit and then fail, or commit after the client's deadline, and a second Airflow try starting while the first
is still slow in CreateExecution) is applied to at least ``--trials`` trials, spread over the paths it concerns (the
sync and deferrable FlyteOperator, FlyteExecutionSensor, FlyteRemote, the sync and deferrable FlyteSignalOperator
and FlyteBackfillOperator) and run concurrently in ``--rounds`` rounds.

Targets: 0 duplicates, 0 lost, 0 wrong outcomes for every kind, and a reconnect within 2 s of Admin serving again
(existing sync client, existing asyncio client, and a client created right after the restart). The reconnect delay is
also measured with gRPC's default channel options in the same run, as the baseline.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "reliability"))
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="bench-faults-airflow-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

TARGET_RECONNECT_SECONDS = 2.0


def _reconnects(sandbox: object, tuned: bool, report: TextIO) -> tuple[float, float, float]:
    from fault_matrix import reconnect_delays

    from airflow_provider_flyte.clients import channel

    saved = channel._DEFAULT_OPTIONS
    if not tuned:  # the baseline: gRPC's own reconnect backoff and process-wide connection pool
        tuned_names = {
            "grpc.initial_reconnect_backoff_ms",
            "grpc.min_reconnect_backoff_ms",
            "grpc.max_reconnect_backoff_ms",
            "grpc.use_local_subchannel_pool",
        }
        channel._DEFAULT_OPTIONS = tuple(option for option in saved if option[0] not in tuned_names)
    try:
        return reconnect_delays(sandbox, outage_seconds=10.0)  # type: ignore[arg-type]
    except Exception as error:  # the baseline's fresh client may fail its first call: that is the finding
        print(f"  ({'tuned' if tuned else 'default'} options: {type(error).__name__}: {error})", file=report)
        return math.inf, math.inf, math.inf
    finally:
        channel._DEFAULT_OPTIONS = saved


@contextlib.contextmanager
def _quiet() -> Iterator[TextIO]:
    """Send what the run logs to a file (Airflow's task loggers write to stdout); yield the real stdout."""
    report = os.fdopen(os.dup(1), "w", buffering=1)
    log_path = Path(tempfile.gettempdir()) / "bench_faults.log"
    with open(log_path, "w") as log:
        saved = os.dup(1), os.dup(2)
        sys.stdout.flush()
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            print(f"(logs of the run: {log_path})", file=report)
            yield report
        finally:
            sys.stdout.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            report.close()


def main() -> None:
    """Run the matrix and print one row per fault kind, then the reconnect delays."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=20, help="trials per fault kind (at least)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per fault kind (trials are spread over them)")
    parser.add_argument("--kinds", default="", help="comma-separated fault kinds (default: all)")
    options = parser.parse_args()

    from fault_matrix import FAULT_KINDS

    kinds = [name for name in options.kinds.split(",") if name] or list(FAULT_KINDS)
    unknown = sorted(set(kinds) - set(FAULT_KINDS))
    if unknown:
        sys.exit(f"unknown fault kinds {unknown}; known: {', '.join(FAULT_KINDS)}")
    with _quiet() as report:
        failed = _run(kinds, options, report)
    print("targets: 0 duplicates / 0 lost / 0 wrong; reconnect <= 2 s:", "MISSED" if failed else "met")
    sys.exit(1 if failed else 0)


def _run(kinds: list[str], options: argparse.Namespace, report: TextIO) -> bool:
    from fault_matrix import FAULT_KINDS, connection_json, matrix_sandbox, run_round

    def say(line: str = "") -> None:
        print(line, file=report)

    failed = False
    with matrix_sandbox(max_workers=64) as sandbox:
        os.environ["AIRFLOW_CONN_FLYTE_DEFAULT"] = connection_json(sandbox)
        say(f"{'fault kind':<32} {'trials':>6} {'dup':>5} {'lost':>5} {'wrong':>6} {'seconds':>8}")
        for name in kinds:
            kind = FAULT_KINDS[name]
            per_path = max(1, math.ceil(options.trials / (len(kind.paths) * options.rounds)))
            started = time.perf_counter()
            verdicts = [v for _ in range(options.rounds) for v in run_round(sandbox, kind, per_path)]
            duplicates = sum(v.duplicates for v in verdicts)
            lost = sum(v.lost for v in verdicts)
            wrong = [v for v in verdicts if v.wrong]
            elapsed = time.perf_counter() - started
            say(f"{name:<32} {len(verdicts):>6} {duplicates:>5} {lost:>5} {len(wrong):>6} {elapsed:>8.1f}")
            for verdict in wrong[:3]:
                say(f"    {verdict.path}: {verdict.wrong[:150]}")
            failed |= bool(duplicates or lost or wrong)
        say()
        say("Reconnect after a 10 s Admin outage (seconds from Admin serving again to the first success):")
        baseline = _reconnects(sandbox, False, report)
        ours = _reconnects(sandbox, True, report)
        labels = ("existing sync client", "existing asyncio client", "new client")
        for label, base, value in zip(labels, baseline, ours, strict=True):
            if math.isinf(base):
                versus = "gRPC defaults: its first call failed"
            else:
                versus = f"gRPC defaults {base:6.2f} s ({base / max(value, 1e-3):.1f}x faster)"
            say(f"  {label:<26} {value:6.2f} s   {versus}")
        failed |= max(ours) > TARGET_RECONNECT_SECONDS
    say()
    return failed


if __name__ == "__main__":
    main()
