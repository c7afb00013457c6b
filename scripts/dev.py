#!/usr/bin/env python3
"""The project's two commands, runnable on a fresh machine with only Python 3.10+ and the package registries.

    python3 scripts/dev.py test   # lint, type-check and run the whole test suite (what CI runs)
    python3 scripts/dev.py test --fast   # the inner loop: no live deployment, fault matrix or property tests
    python3 scripts/dev.py demo   # run the example end to end on the embedded sandbox
    python3 scripts/dev.py release-check  # build wheels and sdists, install them in a clean venv on the newest
                                          # supported Python with only Airflow, check them (part of test)
    python3 scripts/dev.py docs   # build the documentation site into build/site (part of test); `docs serve` previews

A developer tool besides them: ``python3 scripts/dev.py fuzz`` runs the property tests (``tests/property/``) with
the ``fuzz`` hypothesis profile, many more examples per test than the test suite's ``ci`` profile.

Both set themselves up first: a pinned ``uv`` in ``.tools/`` and the locked environment in ``.venv/`` (``uv.lock``).
The Airflow-facing tests also run against the lowest supported Airflow, in ``.venv-airflow-min/``, on Python 3.10
when the machine has it.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / ".tools"
UV_VERSION = "0.13.9"
MAIN_ENV = ROOT / ".venv"
MIN_AIRFLOW_ENV = ROOT / ".venv-airflow-min"
SUPPORTED_PYTHONS = ("3.10", "3.11", "3.12", "3.13")


def _bin(env: Path, name: str) -> Path:
    return env / ("Scripts" if os.name == "nt" else "bin") / name


def _run(*cmd: str | Path, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    completed = subprocess.run([str(c) for c in cmd], cwd=ROOT, env=env)
    if completed.returncode != 0:
        sys.exit(completed.returncode)


def _uv() -> Path:
    uv = _bin(TOOLS, "uv")
    if not uv.exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(TOOLS)
        _run(
            _bin(TOOLS, "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", f"uv=={UV_VERSION}"
        )
    return uv


def _oldest_supported_python() -> str:
    """The lowest Python we support (3.10) when this machine has one, else the running interpreter.

    The minimum-Airflow leg runs there, so the oldest Python and the oldest Airflow are checked together.
    """
    candidates = [shutil.which("python3.10") or ""]
    pyenv_root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates += sorted(glob.glob(os.path.join(pyenv_root, "versions", "3.10.*", "bin", "python3.10")))
    for candidate in candidates:
        if candidate and subprocess.run([candidate, "-c", "pass"], capture_output=True).returncode == 0:
            return candidate
    return sys.executable


def _sync(env_dir: Path, *groups: str, python: str = sys.executable) -> dict[str, str]:
    """Install the locked environment into ``env_dir`` and return the process environment that uses it."""
    env = dict(os.environ, UV_PROJECT_ENVIRONMENT=str(env_dir))
    env.pop("VIRTUAL_ENV", None)
    args: list[str | Path] = [_uv(), "sync", "--locked", "--python", python, "--quiet"]
    if groups:
        args.append("--no-default-groups")
        for group in groups:
            args += ["--group", group]
    _run(*args, env=env)
    _expose_flyteidl_stubs(env_dir)
    return env


def _expose_flyteidl_stubs(env_dir: Path) -> None:
    """Link flyteidl's and flyteidl2's .pyi files where mypy looks: they ship without a py.typed marker."""
    python = _bin(env_dir, "python")
    site = subprocess.run(
        [str(python), "-c", "import flyteidl, os; print(os.path.dirname(flyteidl.__path__[0]))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    typings = ROOT / "build" / "typings"
    typings.mkdir(parents=True, exist_ok=True)
    for package in ("flyteidl", "flyteidl2"):
        link = typings / package
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(Path(site) / package, target_is_directory=True)


CHROMIUM = Path("/usr/bin/chromium")
"""Debian's Chromium, which the browser tests drive (``tests/airflow_live/test_browser.py``); named to them in
``FLYTE_TEST_CHROMIUM``."""


def _ensure_chromium(env: dict[str, str]) -> None:
    """Install Debian's ``chromium`` for the browser tests when it is missing and we can (root with apt-get).

    Elsewhere nothing is installed: the browser tests then skip, naming the install command (they fail under CI=true).
    """
    if not CHROMIUM.exists() and os.name == "posix" and os.geteuid() == 0 and shutil.which("apt-get"):
        apt = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        _run_quietly("apt-get", "update", "-qq", env=apt)
        _run_quietly("apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium", env=apt)
    if CHROMIUM.exists():
        env["FLYTE_TEST_CHROMIUM"] = str(CHROMIUM)


def _run_quietly(*cmd: str, env: dict[str, str]) -> None:
    """:func:`_run`, showing the command's output only when it fails."""
    print("+", " ".join(cmd), flush=True)
    completed = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if completed.returncode != 0:
        print(completed.stdout, flush=True)
        sys.exit(completed.returncode)


FAST_SELECTION = "not live and not reliability and not property"
"""What ``test --fast`` leaves out: the real Airflow deployment, the fault matrix and the property tests."""


def test(pytest_args: list[str]) -> None:
    """Lint, type-check and test; ``--fast`` (contributors' inner loop) skips the slow parts, as documented."""
    env = _sync(MAIN_ENV)
    python = _bin(MAIN_ENV, "python")
    fast = "--fast" in pytest_args
    pytest_args = [arg for arg in pytest_args if arg != "--fast"]
    _run(python, "-m", "ruff", "check", ".", env=env)
    _run(python, "-m", "ruff", "format", "--check", ".", env=env)
    _run(python, "-m", "mypy", env=env)
    _build_docs(python, env)
    if fast:
        _run(python, "-m", "pytest", "-q", "-x", "-m", FAST_SELECTION, *pytest_args, env=env)
        return
    _ensure_chromium(env)
    _run(python, "-m", "pytest", *pytest_args, env=env)
    if not pytest_args:
        min_env = _sync(MIN_AIRFLOW_ENV, "test", "airflow-min", python=_oldest_supported_python())
        min_env["FLYTE_TEST_LEG"] = "airflow-min"  # no peers here by design: their tests run in the main leg
        _run(_bin(MIN_AIRFLOW_ENV, "python"), "-m", "pytest", "-m", "airflow", "-q", env=min_env)
        release_check([])


def _build_docs(python: Path, env: dict[str, str], *mkdocs_args: str) -> None:
    """Build the site (``mkdocs.yml``) into ``build/site`` in strict mode: any warning fails the build.

    Warnings cover broken links and anchors between pages, pages missing from the nav, a missing included example
    DAG and docstrings mkdocstrings cannot read (the API reference is generated from them).
    """
    env = dict(env, NO_MKDOCS_2_WARNING="1")  # Material for MkDocs' notice about MkDocs 2.0, printed on every build
    # Not --quiet: it silences the warnings, and strict mode then counts none of them.
    _run(python, "-m", "mkdocs", "build", "--strict", *mkdocs_args, env=env)


def docs(args: list[str]) -> None:
    """Build the documentation site into ``build/site``; ``docs serve`` previews it with live reload instead."""
    env = _sync(MAIN_ENV)
    python = _bin(MAIN_ENV, "python")
    if args[:1] == ["serve"]:
        env["NO_MKDOCS_2_WARNING"] = "1"
        _run(python, "-m", "mkdocs", "serve", "--strict", *args[1:], env=env)
        return
    _build_docs(python, env, *args)
    print(f"Documentation site built in {ROOT / 'build' / 'site'} (open index.html)", flush=True)


def _newest_supported_python() -> str:
    """The highest Python we support (3.13 down to 3.10) that this machine has, else the running interpreter.

    The release check installs the built packages there, so the newest Python is checked with the newest Airflow
    while the minimum-Airflow leg checks the oldest pair.
    """
    pyenv_root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    for minor in SUPPORTED_PYTHONS[::-1]:
        candidates = [shutil.which(f"python{minor}") or ""]
        candidates += sorted(glob.glob(os.path.join(pyenv_root, "versions", f"{minor}.*", "bin", f"python{minor}")))
        for candidate in candidates:
            if candidate and subprocess.run([candidate, "-c", "pass"], capture_output=True).returncode == 0:
                return candidate
    return sys.executable


def release_check(_args: list[str]) -> None:
    """Build both distributions (wheels and sdists) and check them as users install them (part of ``test``).

    They go into a clean virtual environment on the newest supported Python, with only Apache Airflow and the
    locked runtime dependencies (no flytekit): first the provider alone (``scripts/wheel_smoke.py provider``), then
    the sandbox next to it with pytest (``sandbox``: its command, server, fixture and the demo from the installed
    packages), then the release checks (``release``: the artifacts hold the license files and ``py.typed`` and no
    tests, ``airflow providers list`` shows the provider with its documentation link, every public module imports).
    """
    dist = ROOT / "build" / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    _run(_uv(), "build", "--all-packages", "--out-dir", dist, "--quiet")
    artifacts = sorted([*dist.glob("*.whl"), *dist.glob("*.tar.gz")])
    provider = next(dist.glob("airflow_provider_flyte-*.whl"))
    sandbox = next(dist.glob("flyte_admin_sandbox-*.whl"))
    env_dir = ROOT / "build" / "release-venv"
    _run(_uv(), "venv", "--quiet", "--clear", "--python", _newest_supported_python(), env_dir)
    python = _bin(env_dir, "python")
    export = [_uv(), "export", "--frozen", "--quiet", "--no-hashes", "--no-emit-workspace", "--no-default-groups"]
    runtime, testing = ROOT / "build" / "release-runtime.txt", ROOT / "build" / "release-testing.txt"
    _run(*export, "--output-file", runtime)  # what production installs with the provider
    _run(*export, "--extra", "sandbox", "--group", "test", "--output-file", testing)  # plus the sandbox and pytest
    install = [_uv(), "pip", "install", "--quiet", "--no-deps", "--python", python]
    _run(*install, "-r", runtime, provider)
    _run(python, ROOT / "scripts" / "wheel_smoke.py", "provider")
    _run(*install, "-r", testing, sandbox)
    _run(python, ROOT / "scripts" / "wheel_smoke.py", "sandbox")
    _run(python, ROOT / "scripts" / "wheel_smoke.py", "release", *artifacts)


def fuzz(pytest_args: list[str]) -> None:
    """Run the property tests long: ``HYPOTHESIS_PROFILE=fuzz``, no per-test timeout, extra arguments to pytest."""
    env = _sync(MAIN_ENV)
    env["HYPOTHESIS_PROFILE"] = "fuzz"
    python = _bin(MAIN_ENV, "python")
    _run(python, "-m", "pytest", "-m", "property", "--timeout=0", "tests/property", *pytest_args, env=env)


def demo(demo_args: list[str]) -> None:
    """``airflow-flyte demo`` with ``demo_args`` (``--ui``: a real Airflow to click through, until Ctrl+C)."""
    env = _sync(MAIN_ENV)
    command = [str(_bin(MAIN_ENV, "python")), "-m", "flyte_admin_sandbox.cli", "demo", *demo_args]
    print("+", " ".join(command), flush=True)
    # Ctrl+C reaches the demo too: let it stop what it started (subprocess.run would kill it at once).
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    previous = (
        signal.signal(signal.SIGINT, signal.SIG_IGN),
        signal.signal(signal.SIGTERM, lambda *_: process.terminate()),
    )
    try:
        status = process.wait()
    finally:
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])
    if status != 0:
        sys.exit(status)


def main() -> None:
    commands = {"test": test, "demo": demo, "fuzz": fuzz, "release-check": release_check, "docs": docs}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(f"usage: {sys.argv[0]} {{{'|'.join(commands)}}} [args...]")
    commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
