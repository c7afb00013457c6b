"""Client credentials against the sandbox's own token endpoint, with both friendly clients.

The sandbox (``auth=True``) advertises its token endpoint and header key through AuthMetadataService and answers
UNAUTHENTICATED to calls without a valid token, so these tests follow a client from its first token to a refresh
after ``expire_tokens()``, and check that secrets and tokens stay out of errors and logs. Its fault rules stand in for
a proxy or identity provider that answers UNKNOWN instead: the client refreshes once on that too, and never loops.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import pytest
from flyte_admin_sandbox import FlyteSandbox
from flyte_admin_sandbox import auth as sandbox_auth
from flyte_admin_sandbox import builders as b
from flyteidl.admin import execution_pb2
from integration_support import Driver, connect, count_calls

from airflow_provider_flyte.clients.aio import AsyncFlyteClient
from airflow_provider_flyte.clients.friendly import SynchronousFlyteClient
from airflow_provider_flyte.exceptions import FlyteAuthenticationException, FlyteException, FlyteSystemException

DOMAINS = ["development", "staging", "production"]


class IssuedTokens(list[str]):
    """Every access token the sandbox issued (recorded to prove none of them reaches a log)."""


@pytest.fixture
def auth_sandbox() -> Iterator[FlyteSandbox]:
    with FlyteSandbox(port=0, auth=True, seed=False) as running:
        yield running


@pytest.fixture
def issued(auth_sandbox: FlyteSandbox, monkeypatch: pytest.MonkeyPatch) -> IssuedTokens:
    tokens = IssuedTokens()
    issue = auth_sandbox.issuer.issue

    def recording_issue(client_id: str) -> tuple[str, int]:
        token, lifetime = issue(client_id)
        tokens.append(token)
        return token, lifetime

    monkeypatch.setattr(auth_sandbox.issuer, "issue", recording_issue)
    return tokens


@pytest.fixture
def received_metadata(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, str]]:
    """The invocation metadata of every call the sandbox's auth check looked at."""
    seen: list[dict[str, str]] = []
    bearer = sandbox_auth._bearer

    def recording_bearer(metadata: tuple[tuple[str, Any], ...]) -> str | None:
        seen.append({key: value for key, value in metadata if isinstance(value, str)})
        return bearer(metadata)

    monkeypatch.setattr(sandbox_auth, "_bearer", recording_bearer)
    return seen


async def domain_ids(driver: Driver) -> list[str]:
    return [domain.id for domain in await driver.call("get_domains")]


@pytest.mark.parametrize("advertised_key", ["flyte-authorization", "x-flyte-token"])
async def test_token_is_sent_under_the_advertised_header_key(
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    advertised_key: str,
    received_metadata: list[dict[str, str]],
) -> None:
    # The sandbox publishes (and accepts) this key in its public client config; the client must learn it from there.
    monkeypatch.setattr(sandbox_auth, "AUTHORIZATION_METADATA_KEY", advertised_key)
    with FlyteSandbox(port=0, auth=True, seed=False) as sandbox:
        async with connect(kind, sandbox.config) as driver:
            assert await domain_ids(driver) == DOMAINS
            assert driver.client.raw.token_source is not None
            assert driver.client.raw.token_source.header_key == advertised_key
    [metadata] = received_metadata
    assert metadata[advertised_key].startswith("Bearer ")
    assert "authorization" not in metadata


async def test_expired_token_is_refreshed_once_after_unauthenticated(
    auth_sandbox: FlyteSandbox, kind: str, issued: IssuedTokens
) -> None:
    calls = count_calls(auth_sandbox, "GetDomains")
    async with connect(kind, auth_sandbox.config) as driver:
        token_source = driver.client.raw.token_source
        assert token_source is not None
        await domain_ids(driver)
        assert (calls.hits, token_source.fetch_count, len(issued)) == (1, 1, 1)

        auth_sandbox.expire_tokens()
        assert await domain_ids(driver) == DOMAINS
        # One rejected attempt with the old token, one new token, one accepted attempt.
        assert (calls.hits, token_source.fetch_count, len(issued)) == (3, 2, 2)

        await domain_ids(driver)
        assert (calls.hits, token_source.fetch_count) == (4, 2)


async def test_concurrent_callers_share_one_refresh(auth_sandbox: FlyteSandbox, kind: str) -> None:
    async with connect(kind, auth_sandbox.config) as driver:
        token_source = driver.client.raw.token_source
        assert token_source is not None
        await domain_ids(driver)
        auth_sandbox.expire_tokens()
        if driver.is_async:
            results = await asyncio.gather(*(domain_ids(driver) for _ in range(8)))
        else:
            client = driver.client
            assert isinstance(client, SynchronousFlyteClient)
            with ThreadPoolExecutor(max_workers=8) as pool:
                results = list(pool.map(lambda _: [d.id for d in client.get_domains()], range(8)))
    assert all(result == DOMAINS for result in results)
    assert token_source.fetch_count == 2


async def test_wrong_secret_raises_a_typed_error_without_the_secret(
    auth_sandbox: FlyteSandbox, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    wrong_secret = "not-the-sandbox-secret-7f3a9c"
    config = auth_sandbox.config.with_overrides(client_credentials_secret=wrong_secret)
    admin_calls = count_calls(auth_sandbox, "GetDomains")
    with caplog.at_level(logging.DEBUG):
        async with connect(kind, config) as driver:
            with pytest.raises(FlyteAuthenticationException) as raised:
                await driver.call("get_domains")
    error = raised.value
    assert "HTTP 401" in str(error)
    assert "invalid_client" in str(error)
    # The token endpoint refused before any call was sent with a made-up token.
    assert admin_calls.hits == 0
    for secret in (wrong_secret, auth_sandbox.client_secret):
        assert secret not in str(error)
        assert secret not in repr(error)
        assert secret not in caplog.text
        assert secret not in repr(config)


async def test_secrets_and_tokens_stay_out_of_logs_and_reprs(
    auth_sandbox: FlyteSandbox, kind: str, issued: IssuedTokens, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        async with connect(kind, auth_sandbox.config) as driver:
            await domain_ids(driver)
            auth_sandbox.expire_tokens()
            await domain_ids(driver)
            reprs = [repr(driver.client), repr(driver.client.raw), repr(driver.client.raw.token_source)]
    assert len(issued) == 2
    assert caplog.records, "the debug logs this test inspects were not captured"
    assert any("Obtained a token" in record.getMessage() for record in caplog.records)
    for secret in (auth_sandbox.client_secret, *issued):
        assert secret not in caplog.text
        assert all(secret not in text for text in reprs)
    assert auth_sandbox.client_secret not in repr(auth_sandbox.config)


async def test_retried_attempts_carry_the_token(
    auth_sandbox: FlyteSandbox, kind: str, received_metadata: list[dict[str, str]]
) -> None:
    config = auth_sandbox.config.with_overrides(retry_initial_backoff=0.001, retry_max_backoff=0.002)
    calls = count_calls(auth_sandbox, "GetDomains")
    auth_sandbox.faults.fail("GetDomains", grpc.StatusCode.UNAVAILABLE, times=2)
    async with connect(kind, config) as driver:
        assert await domain_ids(driver) == DOMAINS
        assert driver.client.raw.token_source is not None
        assert driver.client.raw.token_source.fetch_count == 1
    # The fault rule answers before the auth check, so only the accepted third attempt reached it.
    assert calls.hits == 3
    [metadata] = received_metadata
    assert metadata["flyte-authorization"].startswith("Bearer ")


async def test_sync_and_async_clients_share_one_token_source(auth_sandbox: FlyteSandbox, issued: IssuedTokens) -> None:
    config = auth_sandbox.config
    with SynchronousFlyteClient(config) as sync_client:
        token_source = sync_client.raw.token_source
        async with AsyncFlyteClient(config, token_source=token_source) as async_client:
            assert [domain.id for domain in sync_client.get_domains()] == DOMAINS
            assert [domain.id for domain in await async_client.get_domains()] == DOMAINS
            auth_sandbox.expire_tokens()
            assert [domain.id for domain in await async_client.get_domains()] == DOMAINS
            assert [domain.id for domain in sync_client.get_domains()] == DOMAINS
    assert token_source is not None
    assert (token_source.fetch_count, len(issued)) == (2, 2)


# ---------------------------------------------------------------------------------------------------- UNKNOWN


async def test_unknown_for_an_expired_token_refreshes_once_and_resends(
    auth_sandbox: FlyteSandbox, kind: str, issued: IssuedTokens, received_metadata: list[dict[str, str]]
) -> None:
    calls = count_calls(auth_sandbox, "GetDomains")
    async with connect(kind, auth_sandbox.config) as driver:
        token_source = driver.client.raw.token_source
        assert token_source is not None
        await domain_ids(driver)

        auth_sandbox.expire_tokens()
        # A proxy in front of Admin that answers UNKNOWN, not UNAUTHENTICATED, to the expired token.
        auth_sandbox.faults.fail("GetDomains", grpc.StatusCode.UNKNOWN, message="upstream rejected the credentials")
        assert await domain_ids(driver) == DOMAINS
        # The rejected attempt, one new token, the accepted re-send with it.
        assert (calls.hits, token_source.fetch_count, len(issued)) == (3, 2, 2)
    assert received_metadata[-1]["flyte-authorization"] == f"Bearer {issued[-1]}"


async def test_a_second_unknown_after_the_refresh_is_raised_without_looping(
    auth_sandbox: FlyteSandbox, kind: str
) -> None:
    calls = count_calls(auth_sandbox, "GetDomains")
    auth_sandbox.faults.fail("GetDomains", grpc.StatusCode.UNKNOWN, times=4, message="failed database operation")
    async with connect(kind, auth_sandbox.config) as driver:
        token_source = driver.client.raw.token_source
        assert token_source is not None
        with pytest.raises(FlyteSystemException) as raised:
            await domain_ids(driver)
        assert (raised.value.code, raised.value.server_message) == ("UNKNOWN", "failed database operation")
        assert (calls.hits, token_source.fetch_count) == (2, 2)  # one re-send after one refresh, no retry

        with pytest.raises(FlyteSystemException):  # the next call gets the same one chance, no more
            await domain_ids(driver)
        assert (calls.hits, token_source.fetch_count) == (4, 3)
        assert await domain_ids(driver) == DOMAINS
        assert (calls.hits, token_source.fetch_count) == (5, 3)


@pytest.mark.parametrize(("name", "attempts"), [(None, 1), ("named-run", 2)])
async def test_unknown_never_resends_an_unnamed_execution_create(
    auth_sandbox: FlyteSandbox, kind: str, name: str | None, attempts: int
) -> None:
    # A re-sent unnamed create could start a second execution if the first was applied; a named one lands on
    # the same name (ALREADY_EXISTS), so it is re-sent like every other RPC.
    calls = count_calls(auth_sandbox, "CreateExecution")
    auth_sandbox.faults.fail("CreateExecution", grpc.StatusCode.UNKNOWN)
    spec = execution_pb2.ExecutionSpec(launch_plan=b.identifier(b.RT.LAUNCH_PLAN, "not.registered"))
    async with connect(kind, auth_sandbox.config) as driver:
        with pytest.raises(FlyteException) as raised:
            await driver.call("create_execution", "flytesnacks", "development", name, spec, None)
    assert calls.hits == attempts
    # The unnamed create reports the UNKNOWN; the named one was re-sent and Admin's own answer came back.
    assert (raised.value.code == "UNKNOWN") is (name is None)


async def test_unknown_without_auth_is_raised_at_once(sandbox: FlyteSandbox, kind: str) -> None:
    calls = count_calls(sandbox, "GetDomains")
    sandbox.faults.fail("GetDomains", grpc.StatusCode.UNKNOWN)
    async with connect(kind, sandbox.config) as driver:
        assert driver.client.raw.token_source is None
        with pytest.raises(FlyteSystemException) as raised:
            await domain_ids(driver)
    assert raised.value.code == "UNKNOWN"
    assert calls.hits == 1
