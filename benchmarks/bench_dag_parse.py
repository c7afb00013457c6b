"""DAG-parse cost of 20 Flyte operators: this provider vs the same DAG paying flytekit's import, as 0.0.5 does.

The 0.0.5 provider (``flyte_provider``) imports flytekit (``FlyteRemote``, ``Config``, models) when its hook and
operator modules are imported, i.e. on every parse of a DAG using it. Installing 0.0.5 itself is not possible
offline here, so its parse cost is modelled as this provider's DAG plus the flytekit
imports its modules perform; flytekit is the test-only peer installed in ``.venv``.

Each run is a fresh interpreter (a DAG processor parses changed files in fresh processes): Airflow is imported
first (both variants pay it), then the DAG file is parsed and timed, then flytekit is imported and timed.

    .venv/bin/python benchmarks/bench_dag_parse.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

DAG = textwrap.dedent(
    """
    from datetime import datetime
    from airflow.sdk import DAG
    from airflow_provider_flyte.operators.flyte import FlyteOperator
    from airflow_provider_flyte.sensors.flyte import FlyteExecutionSensor

    with DAG("twenty_flyte_operators", start_date=datetime(2026, 1, 1), schedule=None):
        for index in range(20):
            launch = FlyteOperator(
                task_id=f"launch_{index}",
                launchplan_name="flytesnacks.pipeline",
                inputs={"n": index},
                deferrable=True,
            )
    """
)

FLYTEKIT_IMPORTS = (
    "import flytekit\nfrom flytekit.remote import FlyteRemote\nfrom flytekit.configuration import Config\n"
)

# Airflow is imported first, untimed: both variants pay it. Then the DAG file is parsed (this provider's cost), then
# flytekit's imports are added (what 0.0.5's modules would add on top).
PROBE = textwrap.dedent(
    """
    import runpy, sys, time
    import airflow.sdk
    start = time.perf_counter()
    runpy.run_path(sys.argv[1])
    parsed = time.perf_counter()
    exec(sys.argv[2])
    print(parsed - start, time.perf_counter() - parsed)
    """
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    ours, flytekit = [], []
    with tempfile.TemporaryDirectory() as folder:
        dag_path = str(Path(folder) / "twenty_flyte_operators.py")
        Path(dag_path).write_text(DAG)
        for _ in range(args.runs):
            out = subprocess.run(
                [sys.executable, "-c", PROBE, dag_path, FLYTEKIT_IMPORTS], capture_output=True, text=True, check=True
            ).stdout
            parse, extra = (float(value) for value in out.strip().splitlines()[-1].split())
            ours.append(parse)
            flytekit.append(parse + extra)
    ours_median, flytekit_median = statistics.median(ours), statistics.median(flytekit)
    print(f"DAG parse with 20 Flyte operators, after Airflow is imported; median of {args.runs} fresh interpreters")
    print(f"  this provider:                      {ours_median:7.3f} s")
    print(f"  with flytekit's imports (0.0.5):    {flytekit_median:7.3f} s")
    print(f"  ratio 0.0.5 model / this provider:  {flytekit_median / ours_median:7.1f}x")


if __name__ == "__main__":
    main()
