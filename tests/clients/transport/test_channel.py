"""Channels: TLS with a CA made in the test, skip-verify, system roots, options, default metadata."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flyteidl.admin import execution_pb2
from transport_fake_admin import ScriptedAdmin, serve_admin

from airflow_provider_flyte.clients.channel import (
    MAX_MESSAGE_BYTES,
    USER_AGENT,
    channel_options,
    split_endpoint,
)
from airflow_provider_flyte.clients.raw import RawAsyncFlyteClient, RawSynchronousFlyteClient
from airflow_provider_flyte.exceptions import (
    FlyteConfigurationException,
    FlyteSystemException,
    FlyteSystemUnavailableException,
)
from airflow_provider_flyte.version import __version__

GET = execution_pb2.WorkflowExecutionGetRequest()


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _certificate(
    subject: str, issuer_key: ec.EllipticCurvePrivateKey, key: ec.EllipticCurvePrivateKey, *, issuer: str, ca: bool
) -> x509.Certificate:
    now = dt.datetime.now(dt.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes | Path]:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = _certificate("Test CA", ca_key, ca_key, issuer="Test CA", ca=True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = _certificate("localhost", ca_key, server_key, issuer="Test CA", ca=False)
    self_signed_key = ec.generate_private_key(ec.SECP256R1())
    self_signed = _certificate("localhost", self_signed_key, self_signed_key, issuer="localhost", ca=False)
    ca_file = tmp_path_factory.mktemp("pki") / "ca.pem"
    ca_file.write_bytes(_pem(ca_cert))
    return {
        "ca_file": ca_file,
        "server_key": _key_pem(server_key),
        "server_cert": _pem(server_cert),
        "self_signed_key": _key_pem(self_signed_key),
        "self_signed_cert": _pem(self_signed),
    }


@pytest.fixture
def tls_admin(pki: dict[str, bytes | Path]) -> Iterator[ScriptedAdmin]:
    credentials = grpc.ssl_server_credentials([(pki["server_key"], pki["server_cert"])])  # type: ignore[list-item]
    with serve_admin(server_credentials=credentials, host="localhost") as admin:
        yield admin


@pytest.fixture
def self_signed_admin(pki: dict[str, bytes | Path]) -> Iterator[ScriptedAdmin]:
    credentials = grpc.ssl_server_credentials([(pki["self_signed_key"], pki["self_signed_cert"])])  # type: ignore[list-item]
    with serve_admin(server_credentials=credentials, host="localhost") as admin:
        yield admin


def test_tls_with_a_custom_ca_file(tls_admin: ScriptedAdmin, pki: dict[str, bytes | Path]) -> None:
    config = tls_admin.config(insecure=False, ca_cert_file_path=str(pki["ca_file"]))
    with RawSynchronousFlyteClient(config) as raw:
        raw.admin_service.GetExecution(GET)
    assert len(tls_admin.calls_to("GetExecution")) == 1


async def test_async_tls_with_a_custom_ca_file(tls_admin: ScriptedAdmin, pki: dict[str, bytes | Path]) -> None:
    config = tls_admin.config(insecure=False, ca_cert_file_path=str(pki["ca_file"]))
    async with RawAsyncFlyteClient(config) as raw:
        await raw.admin_service.GetExecution(GET)
    assert len(tls_admin.calls_to("GetExecution")) == 1


def test_system_roots_do_not_trust_the_test_ca(tls_admin: ScriptedAdmin) -> None:
    config = tls_admin.config(insecure=False)  # retries allowed: an untrusted certificate is still not retried
    with RawSynchronousFlyteClient(config) as raw, pytest.raises(FlyteConfigurationException) as raised:
        raw.admin_service.GetExecution(GET)
    assert "CERTIFICATE_VERIFY_FAILED" in raised.value.server_message
    assert "Set ca_cert_file_path to a PEM file of the CA that signed it" in str(raised.value)
    assert tls_admin.calls == []


@pytest.mark.parametrize("content", [b"", b"not a certificate\n", b"0\x82\x01\x00\x30", b"-----BEGIN PRIVATE KEY-----"])
async def test_a_ca_file_that_is_not_pem_fails_when_the_channel_is_built(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "ca.der"
    bad.write_bytes(content)
    config = ScriptedAdmin().config(endpoint="localhost:1", insecure=False, ca_cert_file_path=str(bad))
    message = (
        f"ca_cert_file_path={str(bad)!r} is not a PEM file: it holds no '-----BEGIN CERTIFICATE-----' block; point "
        "it at the PEM bundle of the CA that signed Flyte Admin's certificate (convert a DER file with "
        "'openssl x509 -inform der -in ca.der -out ca.pem')"
    )
    with pytest.raises(FlyteConfigurationException) as raised:
        RawSynchronousFlyteClient(config)
    assert str(raised.value) == message
    with pytest.raises(FlyteConfigurationException) as raised:
        RawAsyncFlyteClient(config)
    assert str(raised.value) == message


def test_a_corrupt_certificate_block_is_named(tmp_path: Path, pki: dict[str, bytes | Path]) -> None:
    good = Path(pki["ca_file"]).read_bytes()  # type: ignore[arg-type]
    corrupt = tmp_path / "ca.pem"
    corrupt.write_bytes(good[:40] + b"AAAAAAAAAAAAAAAA" + good[56:])
    config = ScriptedAdmin().config(endpoint="localhost:1", insecure=False, ca_cert_file_path=str(corrupt))
    with pytest.raises(FlyteConfigurationException, match=r"holds a '-----BEGIN CERTIFICATE-----' block that is not"):
        RawSynchronousFlyteClient(config)


def test_skip_verify_trusts_the_presented_certificate(self_signed_admin: ScriptedAdmin) -> None:
    config = self_signed_admin.config(insecure=False, insecure_skip_verify=True)
    with RawSynchronousFlyteClient(config) as raw:
        raw.admin_service.GetExecution(GET)
    assert len(self_signed_admin.calls_to("GetExecution")) == 1


def test_unreadable_ca_file_is_a_configuration_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    config = ScriptedAdmin().config(endpoint="localhost:1", insecure=False, ca_cert_file_path=str(missing))
    with pytest.raises(FlyteConfigurationException, match="ca_cert_file_path"):
        RawSynchronousFlyteClient(config)


def test_skip_verify_against_nothing_is_unavailable() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = ScriptedAdmin().config(endpoint=f"127.0.0.1:{port}", insecure=False, insecure_skip_verify=True)
    with pytest.raises(FlyteSystemUnavailableException, match="insecure_skip_verify"):
        RawSynchronousFlyteClient(config)


def test_skip_verify_against_a_plain_text_server_suggests_insecure(admin: ScriptedAdmin) -> None:
    config = admin.config(insecure=False, insecure_skip_verify=True)
    with pytest.raises(FlyteConfigurationException) as raised:
        RawSynchronousFlyteClient(config)
    assert str(raised.value) == (
        f"insecure_skip_verify=True, but {admin.endpoint} does not speak TLS (WRONG_VERSION_NUMBER): it looks like a "
        "plain-text server; set insecure=True to connect without TLS"
    )
    assert admin.calls == []


def test_every_call_carries_accept_and_our_user_agent(admin: ScriptedAdmin) -> None:
    with RawSynchronousFlyteClient(admin.config()) as raw:
        raw.admin_service.GetExecution(GET)
    metadata = admin.calls_to("GetExecution")[0].metadata
    assert metadata["accept"] == "application/grpc"
    assert metadata["user-agent"].startswith(f"airflow-provider-flyte/{__version__} ")


async def test_async_calls_carry_accept_and_user_agent(admin: ScriptedAdmin) -> None:
    async with RawAsyncFlyteClient(admin.config()) as raw:
        await raw.admin_service.GetExecution(GET, metadata=(("x-request-id", "r1"),))
    metadata = admin.calls_to("GetExecution")[0].metadata
    assert metadata["accept"] == "application/grpc"
    assert metadata["x-request-id"] == "r1"
    assert metadata["user-agent"].startswith(USER_AGENT)


def test_channel_options_defaults_and_overrides() -> None:
    options = dict(channel_options([("grpc.max_receive_message_length", 1024), ("grpc.enable_retries", 0)]))
    assert options["grpc.max_receive_message_length"] == 1024
    assert options["grpc.max_send_message_length"] == MAX_MESSAGE_BYTES == 20 * 1024 * 1024
    assert options["grpc.keepalive_time_ms"] == 30_000
    assert options["grpc.keepalive_timeout_ms"] == 10_000
    assert options["grpc.keepalive_permit_without_calls"] == 1
    assert options["grpc.max_metadata_size"] == 32 * 1024
    assert options["grpc.primary_user_agent"] == USER_AGENT
    assert options["grpc.enable_retries"] == 0


def test_split_endpoint() -> None:
    assert split_endpoint("flyte.example.com:443") == ("flyte.example.com", 443)
    assert split_endpoint("flyte.example.com") == ("flyte.example.com", 443)
    assert split_endpoint("[::1]:8089") == ("::1", 8089)
    assert split_endpoint("[::1]") == ("::1", 443)
    with pytest.raises(FlyteConfigurationException, match="endpoint='host:abc' has a non-numeric port 'abc'"):
        split_endpoint("host:abc")
    with pytest.raises(FlyteConfigurationException, match="endpoint='host:65536' has port 65536, outside 1-65535"):
        split_endpoint("host:65536")
    with pytest.raises(FlyteConfigurationException, match="endpoint=':80' has an empty host"):
        split_endpoint(":80")


def test_calls_after_close_raise_a_clear_error(admin: ScriptedAdmin) -> None:
    raw = RawSynchronousFlyteClient(admin.config())
    raw.close()
    with pytest.raises(FlyteSystemException, match=r"client is closed.*AdminService/GetExecution"):
        raw.admin_service.GetExecution(GET)


async def test_async_calls_after_close_raise_a_clear_error(admin: ScriptedAdmin) -> None:
    raw = RawAsyncFlyteClient(admin.config())
    await raw.close()
    with pytest.raises(FlyteSystemException, match="client is closed"):
        await raw.admin_service.GetExecution(GET)
