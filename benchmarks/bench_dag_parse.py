"""DAG-parse cost of 20 Flyte operators: this provider vs the real old provider 0.0.5 (``flyte_provider``).

The old provider is installed, once, in its own virtualenv under ``build/bench-old-provider/`` (git-ignored):
``airflow-provider-flyte==0.0.5`` plus the Airflow and flytekit versions found in the running environment, so both
sides parse on the same Airflow and only the provider differs. 0.0.5 imports flytekit (``FlyteRemote``, ``Config``,
models) in its hook and operator modules, and Airflow 3 still serves its old import paths with deprecation warnings.
The environment is rebuilt when those pins change; it is built with the repository's pinned uv (``.tools/bin/uv``),
else uv on ``PATH``, else ``venv`` + pip.

Each run is a fresh interpreter (a DAG processor parses changed files in fresh processes): Airflow is imported first
and untimed (both sides pay it), then the DAG file is parsed and timed, and the probe checks that it built 20 tasks.
Runs of the two sides alternate, after one untimed warm-up each (bytecode compilation of a fresh install).

If the old environment cannot be built or cannot parse its DAG, the exact reason is printed and 0.0.5 is modelled as
this provider's DAG plus the flytekit imports its modules perform (flytekit is the test-only peer in ``.venv``).

    .venv/bin/python benchmarks/bench_dag_parse.py [--runs 5] [--rebuild]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OLD_ENV_DIR = REPO / "build" / "bench-old-provider"
OLD_ENV_PYTHON = OLD_ENV_DIR / "venv" / "bin" / "python"
# Written after a successful install; holds the requirement pins the environment was built from.
OLD_ENV_MARKER = OLD_ENV_DIR / "requirements.txt"
OLD_PROVIDER = "airflow-provider-flyte==0.0.5"
TASK_COUNT = 20

# Both DAGs have the same shape: the provider's operator and sensor modules imported, 20 launch-plan operators.
OUR_DAG = textwrap.dedent(
    f"""
    from datetime import datetime
    from airflow.sdk import DAG
    from airflow_provider_flyte.operators.flyte import FlyteOperator
    from airflow_provider_flyte.sensors.flyte import FlyteExecutionSensor

    with DAG("twenty_flyte_operators", start_date=datetime(2026, 1, 1), schedule=None) as dag:
        for index in range({TASK_COUNT}):
            FlyteOperator(
                task_id=f"launch_{{index}}",
                launchplan_name="flytesnacks.pipeline",
                inputs={{"n": index}},
                deferrable=True,
            )
    """
)

# 0.0.5 has no deferrable mode and requires flyte_conn_id; otherwise the same operator arguments.
OLD_DAG = textwrap.dedent(
    f"""
    from datetime import datetime
    from airflow.sdk import DAG
    from flyte_provider.operators.flyte import FlyteOperator
    from flyte_provider.sensors.flyte import FlyteSensor

    with DAG("twenty_flyte_operators", start_date=datetime(2026, 1, 1), schedule=None) as dag:
        for index in range({TASK_COUNT}):
            FlyteOperator(
                task_id=f"launch_{{index}}",
                flyte_conn_id="flyte_default",
                launchplan_name="flytesnacks.pipeline",
                inputs={{"n": index}},
            )
    """
)

# The same shape with a do-nothing operator: what any DAG of 20 tasks costs to parse, whatever the provider.
BARE_DAG = textwrap.dedent(
    f"""
    from datetime import datetime
    from airflow.sdk import DAG, BaseOperator

    class Noop(BaseOperator):
        def execute(self, context):
            return None

    with DAG("twenty_flyte_operators", start_date=datetime(2026, 1, 1), schedule=None) as dag:
        for index in range({TASK_COUNT}):
            Noop(task_id=f"launch_{{index}}")
    """
)
GOAL_ADDED_COST_RATIO = 100.0
"""The provider's parse cost over a bare DAG must be at most 1/100 of 0.0.5's."""

# What 0.0.5's hook and operator modules import from flytekit; used only by the fallback model.
FLYTEKIT_IMPORTS = (
    "import flytekit\nfrom flytekit.remote import FlyteRemote\nfrom flytekit.configuration import Config\n"
)

# argv: DAG file, extra code timed after the parse ("" for none). Prints one JSON line on stdout.
PROBE = textwrap.dedent(
    """
    import json, runpy, sys, time
    import airflow.sdk
    start = time.perf_counter()
    namespace = runpy.run_path(sys.argv[1])
    parsed = time.perf_counter()
    exec(sys.argv[2])
    extra = time.perf_counter() - parsed
    tasks = namespace["dag"].tasks
    origin = getattr(sys.modules.get(type(tasks[0]).__module__), "__file__", None)
    print(json.dumps({"parse": parsed - start, "extra": extra, "tasks": len(tasks), "origin": origin}))
    """
)

VERSIONS_PROBE = textwrap.dedent(
    """
    import importlib.metadata, json, sys
    names = sys.argv[1:]
    print(json.dumps({name: importlib.metadata.version(name) for name in names}))
    """
)
REPORTED_DISTRIBUTIONS = ("airflow-provider-flyte", "flytekit", "apache-airflow", "apache-airflow-core", "flyteidl")


class OldEnvironmentError(Exception):
    """The old provider's environment could not be built or could not parse its DAG."""


@dataclass(frozen=True)
class Measurement:
    """One fresh-interpreter parse: seconds to parse the DAG file and seconds of the extra timed code."""

    parse: float
    extra: float


def installed_version(distribution: str) -> str | None:
    """Return the version of ``distribution`` in the running environment, or None when it is absent."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def old_requirements() -> list[str]:
    """Pins for the old environment: 0.0.5 on this environment's Airflow and flytekit when they are known."""
    airflow_version = installed_version("apache-airflow")
    flytekit_version = installed_version("flytekit")
    return [
        OLD_PROVIDER,
        f"apache-airflow=={airflow_version}" if airflow_version else "apache-airflow>=3",
        f"flytekit=={flytekit_version}" if flytekit_version else "flytekit>=1.0.0",
    ]


def run_checked(command: Sequence[str], what: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    """Run ``command``; return its stdout or raise OldEnvironmentError with the command and its stderr tail."""
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd)
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-15:])
        raise OldEnvironmentError(f"{what} failed (exit {result.returncode}): {' '.join(command)}\n{tail}")
    return result.stdout


def build_old_environment(requirements: list[str], rebuild: bool) -> None:
    """Create the old provider's virtualenv unless one built from the same ``requirements`` is already there."""
    wanted = "\n".join(requirements) + "\n"
    if not rebuild and OLD_ENV_PYTHON.exists() and OLD_ENV_MARKER.exists() and OLD_ENV_MARKER.read_text() == wanted:
        return
    print(f"building the old provider's environment in {OLD_ENV_DIR.relative_to(REPO)}: {' '.join(requirements)}")
    shutil.rmtree(OLD_ENV_DIR, ignore_errors=True)
    OLD_ENV_DIR.mkdir(parents=True)
    venv = str(OLD_ENV_PYTHON.parents[1])
    pinned_uv = REPO / ".tools" / "bin" / "uv"
    uv = str(pinned_uv) if pinned_uv.exists() else shutil.which("uv")
    if uv:
        run_checked([uv, "venv", "--quiet", "--python", sys.executable, venv], "uv venv")
        run_checked([uv, "pip", "install", "--quiet", "--python", str(OLD_ENV_PYTHON), *requirements], "uv pip install")
    else:
        run_checked([sys.executable, "-m", "venv", venv], "python -m venv")
        run_checked([str(OLD_ENV_PYTHON), "-m", "pip", "install", "--quiet", *requirements], "pip install")
    OLD_ENV_MARKER.write_text(wanted)


def probe(python: str, dag_path: Path, extra_code: str, env: dict[str, str]) -> Measurement:
    """Parse ``dag_path`` in a fresh ``python``, then run ``extra_code``; check the DAG holds all its tasks.

    The interpreter starts in the DAG's folder: ``python -c`` puts its working directory first on ``sys.path``, and
    from the repository that would import this checkout's ``flyte_provider`` upgrade shim in place of the real 0.0.5.
    """
    command = [python, "-c", PROBE, str(dag_path), extra_code]
    out = run_checked(command, f"parsing {dag_path.name} with {python}", env, cwd=dag_path.parent)
    result = json.loads(out.strip().splitlines()[-1])
    if result["tasks"] != TASK_COUNT:
        raise OldEnvironmentError(f"{dag_path.name} built {result['tasks']} tasks with {python}, not {TASK_COUNT}")
    old_dag = python == str(OLD_ENV_PYTHON) and dag_path.name == "old_provider.py"
    if old_dag and str(OLD_ENV_DIR) not in str(result["origin"]):
        raise OldEnvironmentError(f"the old DAG's operator came from {result['origin']}, not from 0.0.5's install")
    return Measurement(parse=result["parse"], extra=result["extra"])


def measure_real(runs: int, folder: Path, env: dict[str, str]) -> dict[str, list[float]]:
    """Alternate parses of our DAG in ``.venv``, 0.0.5's in its environment and the bare DAG in both."""
    our_dag, old_dag, bare_dag = folder / "ours.py", folder / "old_provider.py", folder / "bare.py"
    our_dag.write_text(OUR_DAG)
    old_dag.write_text(OLD_DAG)
    bare_dag.write_text(BARE_DAG)
    sides = {
        "ours": (sys.executable, our_dag),
        "old": (str(OLD_ENV_PYTHON), old_dag),
        "bare ours": (sys.executable, bare_dag),
        "bare old": (str(OLD_ENV_PYTHON), bare_dag),
    }
    for python, dag in sides.values():
        probe(python, dag, "", env)  # warm-up: bytecode compilation
    times: dict[str, list[float]] = {side: [] for side in sides}
    for _ in range(runs):
        for side, (python, dag) in sides.items():
            times[side].append(probe(python, dag, "", env).parse)
    return times


def measure_model(runs: int, folder: Path, env: dict[str, str]) -> dict[str, list[float]]:
    """Fallback: our DAG in ``.venv``, and the same parse plus flytekit's imports as the model of 0.0.5."""
    our_dag, bare_dag = folder / "ours.py", folder / "bare.py"
    our_dag.write_text(OUR_DAG)
    bare_dag.write_text(BARE_DAG)
    probe(sys.executable, our_dag, FLYTEKIT_IMPORTS, env)
    measurements = [probe(sys.executable, our_dag, FLYTEKIT_IMPORTS, env) for _ in range(runs)]
    bare = [probe(sys.executable, bare_dag, "", env).parse for _ in range(runs)]
    return {
        "ours": [m.parse for m in measurements],
        "old": [m.parse + m.extra for m in measurements],
        "bare ours": bare,
        "bare old": bare,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5, help="timed parses per side (median reported)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the old provider's environment")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        # One throwaway AIRFLOW_HOME shared by both sides, so neither touches ~/airflow and both see the same config.
        env = {**os.environ, "AIRFLOW_HOME": str(folder / "airflow_home")}
        # A DAG processor runs on bytecode compiled once; without it both sides would be timing the compiler.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        old_label = "old provider 0.0.5"
        try:
            build_old_environment(old_requirements(), args.rebuild)
            versions = json.loads(
                run_checked([str(OLD_ENV_PYTHON), "-c", VERSIONS_PROBE, *REPORTED_DISTRIBUTIONS], "version probe")
            )
            print(f"old environment ({OLD_ENV_PYTHON.relative_to(REPO)}):")
            for name, version in versions.items():
                print(f"  {name:24} {version}")
            times = measure_real(args.runs, folder, env)
        except OldEnvironmentError as error:
            print(f"the real 0.0.5 could not be measured: {error}")
            if installed_version("flytekit") is None:
                sys.exit("fallback impossible too: flytekit is not installed in this environment")
            print("falling back to the model: this provider's DAG plus the flytekit imports 0.0.5's modules perform")
            old_label = "0.0.5 model (ours + flytekit)"
            times = measure_model(args.runs, folder, env)
    median = {side: statistics.median(values) for side, values in times.items()}
    ours_added = median["ours"] - median["bare ours"]
    old_added = median["old"] - median["bare old"]
    # Below the bare DAG's own run-to-run spread the ratio means nothing; say so rather than divide by noise.
    spread = statistics.pstdev(times["bare ours"]) if len(times["bare ours"]) > 1 else 0.0
    ratio = (
        f"{old_added / ours_added:7.1f}x (goal >= {GOAL_ADDED_COST_RATIO:g}x)"
        if ours_added > spread
        else f"ours is within the bare DAG's noise (+/-{spread:.3f} s): >= {old_added / max(spread, 1e-3):.0f}x"
    )
    our_version = installed_version("airflow-provider-flyte") or "working tree"
    print(
        f"DAG parse with {TASK_COUNT} Flyte operators, after Airflow {installed_version('apache-airflow')} is imported;"
        f" median of {args.runs} fresh interpreters"
    )
    for label, value in (
        (f"this provider ({our_version})", f"{median['ours']:7.3f} s"),
        (old_label, f"{median['old']:7.3f} s"),
        ("bare DAG (20 do-nothing tasks)", f"{median['bare ours']:7.3f} s / {median['bare old']:.3f} s"),
        ("added over bare: this provider", f"{ours_added:7.3f} s"),
        ("added over bare: 0.0.5", f"{old_added:7.3f} s"),
        ("ratio of added costs 0.0.5 / ours", ratio),
        ("ratio of totals 0.0.5 / ours", f"{median['old'] / median['ours']:7.1f}x"),
    ):
        print(f"  {label + ':':36} {value}")


if __name__ == "__main__":
    main()
