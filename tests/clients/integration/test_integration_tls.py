"""TLS against the sandbox's generated certificate: its CA file, skip-verify, system roots, and TLS with auth."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from integration_support import connect

from airflow_provider_flyte.configuration import PlatformConfig
from airflow_provider_flyte.exceptions import FlyteSystemUnavailableException
from airflow_provider_flyte.sandbox import FlyteSandbox

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


async def test_system_roots_do_not_trust_the_sandbox_certificate(tls_sandbox: FlyteSandbox, kind: str) -> None:
    config = PlatformConfig(endpoint=tls_sandbox.endpoint, rpc_retries=0)
    async with connect(kind, config) as driver:
        with pytest.raises(FlyteSystemUnavailableException) as raised:
            await driver.call("get_domains")
    assert raised.value.code == "UNAVAILABLE"


async def test_tls_with_client_credentials(kind: str) -> None:
    with FlyteSandbox(port=0, tls=True, auth=True, seed=False) as sandbox:
        async with connect(kind, sandbox.config) as driver:
            assert [domain.id for domain in await driver.call("get_domains")] == DOMAINS
            sandbox.expire_tokens()
            assert [domain.id for domain in await driver.call("get_domains")] == DOMAINS
            assert driver.client.raw.token_source is not None
            assert driver.client.raw.token_source.fetch_count == 2
