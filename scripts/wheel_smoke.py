"""Checks of the two distributions as users install them, run inside a clean virtual environment.

``python3 scripts/dev.py release-check`` (part of the full ``test`` command) builds both distributions, installs the
provider's wheel alone into a new virtual environment on the newest supported Python with the locked dependencies,
runs ``provider``, then adds the sandbox's wheel and runs ``sandbox`` and ``release``:

* ``provider``: the wheel holds no emulator, no pytest plugin and no console script; the provider imports, DAG-facing
  modules load no grpc, and the ``flyte_admin_sandbox`` package is absent;
* ``sandbox``: ``airflow-flyte sandbox --help`` works, a sandbox answers the provider's client and runs a seeded
  workflow, the ``flyte_sandbox`` pytest fixture works in a fresh pytest session, and ``airflow-flyte demo`` runs the
  packaged example DAGs (no source checkout in sight: this runs from a temporary directory);
* ``release`` (the wheels and sdists as arguments): each carries LICENSE and NOTICE, each wheel ``py.typed`` and no
  tests, no sdist carries build or environment files; ``airflow providers list`` shows the provider and Airflow's
  Providers page gets its documentation link; every public module imports, flytekit absent.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

FIXTURE_TEST = """
from airflow_provider_flyte import FlyteRemote

def test_the_fixture_serves_a_seeded_admin(flyte_sandbox):
    with FlyteRemote(flyte_sandbox.config, "flytesnacks", "development") as remote:
        done = remote.execute(remote.fetch_launch_plan(name="demo.pipeline"), inputs={"numbers": [1, 2]}, wait=True)
        assert done.outputs["total"] == 3
"""


def _check(condition: bool, message: str) -> None:
    if not condition:
        sys.exit(f"wheel smoke check failed: {message}")
    print(f"  ok: {message}")


def provider() -> None:
    """The provider alone, as production installs it."""
    distribution = importlib.metadata.distribution("airflow-provider-flyte")
    files = [str(path) for path in distribution.files or []]
    _check(not any("sandbox" in name for name in files), "the provider wheel carries no sandbox module")
    _check(not any(name.endswith(("/demo.py", "/cli.py")) for name in files), "nor the demo or a command line")
    groups = {entry.group for entry in distribution.entry_points}
    _check(groups == {"apache_airflow_provider"}, f"its only entry point is Airflow's provider hook ({groups})")
    _check(importlib.util.find_spec("flyte_admin_sandbox") is None, "flyte_admin_sandbox is not installed with it")
    _check(importlib.util.find_spec("flyteidl2") is None, "nor flyteidl2 (Flyte 2 comes with the flyte2 extra)")
    code = (
        "import sys, airflow_provider_flyte.operators.flyte, airflow_provider_flyte.sensors.flyte;"
        "print(any(m.startswith(('grpc', 'flyteidl')) for m in sys.modules))"
    )
    heavy = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    _check(heavy == "False", "importing the DAG-facing modules loads no grpc or flyteidl")


def sandbox() -> None:
    """The sandbox's wheel next to the provider's: command, server, pytest fixture and demo."""
    command = Path(sys.executable).parent / "airflow-flyte"
    help_text = subprocess.run([command, "sandbox", "--help"], capture_output=True, text=True, check=True).stdout
    _check("--port" in help_text, "airflow-flyte sandbox --help")
    from flyte_admin_sandbox import FlyteSandbox

    from airflow_provider_flyte import FlyteRemote

    with FlyteSandbox(port=0) as running, FlyteRemote(running.config, "flytesnacks", "development") as remote:
        done = remote.execute(remote.fetch_launch_plan(name="demo.pipeline"), inputs={"numbers": [2, 4]}, wait=True)
        _check(done.outputs["mean"] == 6.0, "a sandbox from the wheel runs demo.pipeline for the provider's client")
    with tempfile.TemporaryDirectory(prefix="wheel-smoke-") as folder:
        Path(folder, "test_fixture.py").write_text(textwrap.dedent(FIXTURE_TEST))
        tests = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", folder], cwd=folder, check=False
        )
        _check(tests.returncode == 0, "the flyte_sandbox pytest fixture of the wheel")
        demo = subprocess.run(
            [command, "demo"], cwd=folder, env={**os.environ, "NO_COLOR": "1"}, capture_output=True, text=True
        )
        print(demo.stdout, demo.stderr, sep="\n")
        _check(demo.returncode == 0, "airflow-flyte demo runs the packaged example DAGs from an installed wheel")
        _check_demo_output(demo.stdout + demo.stderr)


DEMO_SAYS = (
    "=== Demo summary ===",
    "planned a backfill of 7 run(s) (dry run, nothing launched)",
    "backfilled 3 run(s), 3 succeeded",
    "approved signal 'approve-report' (approval gate)",
    "set signal 'title' (input gate)",
    "waited until signal 'approve-report' (approval gate) was pending",
    "launched an execution and waited for it",
    "/console/projects/flytesnacks/domains/development/executions/",
    "launched a Flyte 2 task run and waited for it",
    "/v2/domain/development/project/flytesnacks/runs/",
)
"""What the demo's summary says about what its tasks did."""
NOT_IN_A_GOOD_RUN = ("WARNING", "ERROR", "[warning", "[error", "Traceback", "Got goaway", "DeprecationWarning")
"""Lines a successful demo never prints."""


def _check_demo_output(output: str) -> None:
    for phrase in DEMO_SAYS:
        _check(phrase in output, f"the demo summary says {phrase!r}")
    _check("final phase: SUCCEEDED" in output and "final phase: None" not in output, "every execution's final phase")
    noisy = [line for line in output.splitlines() if any(marker in line for marker in NOT_IN_A_GOOD_RUN)]
    _check(not noisy, f"a successful demo prints no warning or error lines (got {noisy[:5]})")


PUBLIC_PACKAGES = ("airflow_provider_flyte", "flyte_provider", "flyte_admin_sandbox")


def release() -> None:
    """What a release needs of the installed packages and their artifacts (``sys.argv[2:]``: wheels and sdists)."""
    for artifact in map(Path, sys.argv[2:]):
        _check_artifact(artifact)
    home = tempfile.mkdtemp(prefix="release-check-home-")
    env = {**os.environ, "AIRFLOW_HOME": home, "NO_COLOR": "1"}
    command = Path(sys.executable).parent / "airflow"
    listed = subprocess.run([command, "providers", "list"], capture_output=True, text=True, env=env, check=False)
    _check(listed.returncode == 0 and "airflow-provider-flyte" in listed.stdout, "airflow providers list shows us")
    code = (
        "from airflow.providers_manager import ProvidersManager;"
        "print(ProvidersManager().providers['airflow-provider-flyte'].data['documentation-url'])"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    metadata = importlib.metadata.metadata("airflow-provider-flyte")
    links = dict(link.split(", ", 1) for link in metadata.get_all("Project-URL") or [])
    documentation = links["Documentation"]
    _check(shown.stdout.strip() == documentation, f"Airflow's Providers page links the documentation ({documentation})")
    imported = _import_public_modules(env)
    _check(imported > 100, f"every public module imports ({imported} modules, no flytekit installed)")


def _check_artifact(path: Path) -> None:
    import tarfile
    import zipfile

    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as wheel:
            names = wheel.namelist()
        package = path.name.split("-")[0]
        _check(any(n.endswith("/licenses/LICENSE") for n in names), f"{path.name} carries LICENSE")
        _check(any(n.endswith("/licenses/NOTICE") for n in names), f"{path.name} carries NOTICE")
        _check(f"{package}/py.typed" in names, f"{path.name} carries py.typed")
        tests = [n for n in names if "/tests/" in n or n.startswith("tests/") or "/test_" in n or "conftest" in n]
        _check(not tests, f"{path.name} carries no tests ({tests[:3]})")
    else:
        with tarfile.open(path) as sdist:
            names = sdist.getnames()
        _check(any(n.endswith("/LICENSE") for n in names), f"{path.name} carries LICENSE")
        _check(any(n.endswith("/NOTICE") for n in names), f"{path.name} carries NOTICE")
        junk = [n for n in names if any(part in n.split("/") for part in (".venv", "build", ".tools", "__pycache__"))]
        _check(not junk, f"{path.name} carries no build or environment files ({junk[:3]})")


def _import_public_modules(env: dict[str, str]) -> int:
    """Import every module whose dotted name has no private part, in a fresh interpreter; return how many."""
    code = textwrap.dedent(
        f"""
        import importlib, pkgutil, sys
        count = 0
        for name in {PUBLIC_PACKAGES!r}:
            package = importlib.import_module(name)
            count += 1
            for info in pkgutil.walk_packages(package.__path__, name + "."):
                if any(part.startswith("_") for part in info.name.split(".")):
                    continue
                importlib.import_module(info.name)
                count += 1
        assert "flytekit" not in sys.modules, "a public module imported flytekit"
        print(count)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        sys.exit(f"release check failed: importing the public modules:\n{done.stderr[-3000:]}")
    return int(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    {"provider": provider, "sandbox": sandbox, "release": release}[sys.argv[1]]()
