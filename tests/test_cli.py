"""`airflow-flyte sandbox` as a user runs it: a real process, TLS and auth on, one log line per RPC, no secret shown."""

import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_provider_flyte import FlyteEntityNotExistException, PlatformConfig, SynchronousFlyteClient
from airflow_provider_flyte.cli import build_parser


def test_sandbox_command_serves_logs_rpcs_and_keeps_the_secret_out_of_its_output() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_flyte.cli", "sandbox", "--port", "0", "--tls", "--auth"],
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
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=30)
    output = banner + rest
    assert process.returncode == 0
    assert re.search(r"AdminService/GetVersion OK [\d.]+ ms", output)
    assert re.search(r"AdminService/GetExecution NOT_FOUND [\d.]+ ms: missing entity", output)
    assert secret not in output


def test_parser_lists_both_commands() -> None:
    parser = build_parser()
    assert parser.parse_args(["sandbox", "--no-seed", "--db", "x.sqlite"]).db == "x.sqlite"
    assert parser.parse_args(["demo"]).keep_home is False
    with pytest.raises(SystemExit):
        parser.parse_args([])
