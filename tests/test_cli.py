"""`airflow-flyte sandbox` as a user runs it: a real process, TLS and auth on, one log line per RPC, no secret shown,
and the secret's file removed however the process is stopped."""

import argparse
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from flyte_admin_sandbox.cli import build_parser

from airflow_provider_flyte import FlyteEntityNotExistException, PlatformConfig, SynchronousFlyteClient

SANDBOX = [sys.executable, "-m", "flyte_admin_sandbox.cli", "sandbox"]


def test_sandbox_command_serves_logs_rpcs_and_keeps_the_secret_out_of_its_output() -> None:
    process = subprocess.Popen(
        [*SANDBOX, "--port", "0", "--tls", "--auth"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    try:
        while not any("CA certificate" in line for line in lines):
            line = process.stdout.readline()
            assert line, f"the sandbox exited early: {''.join(lines)}"
            lines.append(line)
        banner = "".join(lines)
        endpoint = re.search(r"serving Flyte Admin on (\S+)", banner).group(1)  # type: ignore[union-attr]
        secret_file = Path(re.search(r"secret in (\S+)", banner).group(1))  # type: ignore[union-attr]
        ca_file = re.search(r"CA certificate for clients: (\S+)", banner).group(1)  # type: ignore[union-attr]
        secret = secret_file.read_text()
        assert secret_file.stat().st_mode & 0o077 == 0

        config = PlatformConfig(
            endpoint=endpoint,
            ca_cert_file_path=ca_file,
            auth_mode="client_credentials",
            client_id="flyte-sandbox",
            client_credentials_secret_file=str(secret_file),
        )
        with SynchronousFlyteClient(config) as client:
            assert client.get_control_plane_version()
            with pytest.raises(FlyteEntityNotExistException):
                client.get_execution("ex:flytesnacks:development:nothing-here")
    finally:
        rest = stop(process, signal.SIGTERM)
    output = banner + rest
    assert process.returncode == 0
    assert re.search(r"AdminService/GetVersion OK [\d.]+ ms", output)
    assert re.search(r"AdminService/GetExecution NOT_FOUND [\d.]+ ms: missing entity", output)
    assert secret not in output
    assert not secret_file.exists()
    assert not secret_file.parent.exists()


def stop(process: subprocess.Popen[str], signum: signal.Signals) -> str:
    """Send ``signum`` and return the rest of the output; a sandbox that ignores it is killed and the test fails."""
    process.send_signal(signum)
    try:
        return process.communicate(timeout=30)[0]
    except subprocess.TimeoutExpired:
        process.kill()
        output = process.communicate()[0]
        raise AssertionError(f"the sandbox did not stop on {signum.name}: {output}") from None


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
def test_sandbox_command_removes_its_secret_file_when_stopped(signum: signal.Signals) -> None:
    process = subprocess.Popen(
        [*SANDBOX, "--port", "0", "--auth", "--no-seed", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    secret_file: Path | None = None
    try:
        while secret_file is None:
            line = process.stdout.readline()
            assert line, "the sandbox exited before printing its secret file"
            found = re.search(r"secret in (\S+)", line)
            secret_file = Path(found.group(1)) if found else None
        assert secret_file.read_text()
    finally:
        try:
            output = stop(process, signum)
        finally:
            left_behind = secret_file is not None and secret_file.parent.exists()
            if secret_file is not None:
                shutil.rmtree(secret_file.parent, ignore_errors=True)  # no stray secret, whatever the outcome
    assert process.returncode == 0, output
    assert not left_behind


def test_parser_lists_both_commands() -> None:
    parser = build_parser()
    assert parser.parse_args(["sandbox", "--no-seed", "--db", "x.sqlite"]).db == "x.sqlite"
    assert parser.parse_args(["demo"]).keep_home is False
    with pytest.raises(SystemExit):
        parser.parse_args([])


def test_help_reads_as_plain_text() -> None:
    """No reStructuredText or Rich markup in what a person reads in a terminal."""
    parser = build_parser()
    texts = [parser.format_help()]
    subcommands = next(action for action in parser._actions if isinstance(action, argparse._SubParsersAction))
    texts += [sub.format_help() for sub in subcommands.choices.values()]
    for text in texts:
        assert "``" not in text
        assert ":class:" not in text
        assert "[/" not in text  # closing Rich tags


def test_the_command_line_loads_no_grpc_until_a_command_runs() -> None:
    """``--help`` stays instant, and the demo sets gRPC's log verbosity before grpc reads it at import."""
    probe = "import sys, flyte_admin_sandbox.cli; print('grpc' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
