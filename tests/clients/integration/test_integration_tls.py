"""TLS against the sandbox's generated certificate: its CA file, skip-verify, system roots, and TLS with auth.

TLS misconfigurations (untrusted certificate, wrong host name, a plain-text server, a CA file that is not PEM) fail
at once as configuration errors naming the setting to change, on both clients, without a retry.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from flyte_admin_sandbox import FlyteSandbox
from integration_support import connect

from airflow_provider_flyte.configuration import PlatformConfig
from airflow_provider_flyte.exceptions import FlyteConfigurationException
from tests.support.clients import RecordedSleeps

DOMAINS = ["development", "staging", "production"]


@pytest.fixture
def tls_sandbox() -> Iterator[FlyteSandbox]:
    with FlyteSandbox(port=0, tls=True, seed=False) as running:
        yield running


async def test_ca_file_from_the_sandbox_config(tls_sandbox: FlyteSandbox, kind: str) -> None:
    config = tls_sandbox.config
    assert not config.insecure
    assert config.ca_cert_file_path == str(tls_sandbox.ca_cert_path)
    async with connect(kind, config) as driver:
        assert [domain.id for domain in await driver.call("get_domains")] == DOMAINS


async def test_insecure_skip_verify_trusts_the_presented_certificate(
    tls_sandbox: FlyteSandbox, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    config = PlatformConfig(endpoint=tls_sandbox.endpoint, insecure_skip_verify=True)
    with caplog.at_level(logging.WARNING):
        async with connect(kind, config) as driver:
            assert [domain.id for domain in await driver.call("get_domains")] == DOMAINS
    assert any("insecure_skip_verify is set" in record.getMessage() for record in caplog.records)


async def test_system_roots_do_not_trust_the_sandbox_certificate(
    tls_sandbox: FlyteSandbox, kind: str, sleeps: RecordedSleeps
) -> None:
    config = PlatformConfig(endpoint=tls_sandbox.endpoint, rpc_retries=4)
    async with connect(kind, config, retry_policy=sleeps.policy(config)) as driver:
        with pytest.raises(FlyteConfigurationException) as raised:
            await driver.call("get_domains")
    assert raised.value.code == "UNAVAILABLE"
    assert raised.value.message.startswith("TLS verification failed (self signed certificate in certificate chain)")
    assert "Set ca_cert_file_path to a PEM file of the CA that signed it, or insecure_skip_verify=True" in str(
        raised.value
    )
    assert sleeps == []  # not retried


async def test_a_host_name_the_certificate_does_not_cover_names_endpoint(
    tls_sandbox: FlyteSandbox, kind: str, sleeps: RecordedSleeps
) -> None:
    config = tls_sandbox.config.with_overrides(rpc_retries=4)
    wrong_name = [("grpc.ssl_target_name_override", "flyte.example.com")]  # verify against a name not in the cert
    async with connect(kind, config, retry_policy=sleeps.policy(config), options=wrong_name) as driver:
        with pytest.raises(FlyteConfigurationException) as raised:
            await driver.call("get_domains")
    assert raised.value.message.startswith("TLS hostname verification failed")
    assert "Set endpoint to a host name the certificate is issued for" in raised.value.message
    assert sleeps == []


async def test_tls_to_a_plain_text_server_suggests_insecure(
    sandbox: FlyteSandbox, kind: str, sleeps: RecordedSleeps
) -> None:
    config = PlatformConfig(endpoint=sandbox.endpoint, rpc_retries=4)  # TLS, but the sandbox serves plain text
    async with connect(kind, config, retry_policy=sleeps.policy(config)) as driver:
        with pytest.raises(FlyteConfigurationException) as raised:
            await driver.call("get_domains")
    assert raised.value.message == (
        f"TLS handshake failed (WRONG_VERSION_NUMBER): Flyte Admin at ipv4:{sandbox.endpoint} answered in plain "
        "text, not TLS. Set insecure=True to connect without TLS. Not retried: retrying cannot fix it."
    )
    assert sleeps == []


async def test_a_ca_file_that_is_not_pem_fails_before_any_call(
    tls_sandbox: FlyteSandbox, kind: str, tmp_path: Path
) -> None:
    der = tmp_path / "ca.der"
    der.write_bytes(b"0\x82\x01\x0a" + bytes(range(64)))
    config = tls_sandbox.config.with_overrides(ca_cert_file_path=str(der))
    with pytest.raises(FlyteConfigurationException, match=rf"ca_cert_file_path='{der}' is not a PEM file"):
        async with connect(kind, config):
            pass


async def test_tls_with_client_credentials(kind: str) -> None:
    with FlyteSandbox(port=0, tls=True, auth=True, seed=False) as sandbox:
        async with connect(kind, sandbox.config) as driver:
            assert [domain.id for domain in await driver.call("get_domains")] == DOMAINS
            sandbox.expire_tokens()
            assert [domain.id for domain in await driver.call("get_domains")] == DOMAINS
            assert driver.client.raw.token_source is not None
            assert driver.client.raw.token_source.fetch_count == 2
