"""The v1 transport under the Flyte 2 client: retries and error mapping, auth (client credentials, API key), and
watch streams that reconnect after a proxy cuts them, on the sync and asyncio clients."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator

import grpc
import pytest
from conftest import Driver2
from flyteidl2.common import identifier_pb2, phase_pb2
from v2_fake_services import ScriptedFlyte2, serve_flyte2

from airflow_provider_flyte.clients.auth.api_key import decode_api_key, encode_api_key
from airflow_provider_flyte.clients.v2 import RunPhase
from airflow_provider_flyte.clients.v2.aio import AsyncFlyte2Client
from airflow_provider_flyte.clients.v2.friendly import Flyte2Client
from airflow_provider_flyte.clients.v2.raw import RawFlyte2Client
from airflow_provider_flyte.configuration import AuthMode, Backend, PlatformConfig
from airflow_provider_flyte.exceptions import (
    FlyteAuthenticationException,
    FlyteConfigurationException,
    FlyteEntityAlreadyExistsException,
    FlyteSystemUnavailableException,
)
from tests.clients.transport.transport_fake_idp import FakeIdentityProvider, serve_idp

RUN = identifier_pb2.RunIdentifier(project="p", domain="d", name="nightly-1")
SECRET = "s3cr:t/+value"


@pytest.fixture
def idp(backend: ScriptedFlyte2) -> Iterator[FakeIdentityProvider]:
    backend.valid_tokens = set()
    backend.authorization_metadata_key = "flyte-authorization"
    with serve_idp(on_issue=backend.valid_tokens.add, client_secret=SECRET) as provider:
        backend.token_endpoint = provider.token_endpoint
        yield provider


async def _driver(config: PlatformConfig, is_async: bool) -> Driver2:
    return Driver2(AsyncFlyte2Client(config) if is_async else Flyte2Client(config))


async def _close(driver: Driver2) -> None:
    result = driver.client.close()
    if result is not None:
        await result


# ---------------------------------------------------------------------------------------------------- retries


async def test_reads_are_retried(driver: Driver2, backend: ScriptedFlyte2) -> None:
    backend.fail("GetRunDetails", grpc.StatusCode.UNAVAILABLE, times=2)
    details = await driver.call("get_run_details", RUN)
    assert RunPhase.of(details.action.status.phase) is RunPhase.SUCCEEDED
    assert len(backend.calls_to("GetRunDetails")) == 3


async def test_a_named_run_whose_reply_was_lost_is_recovered(driver: Driver2, backend: ScriptedFlyte2) -> None:
    backend.fail("CreateRun", grpc.StatusCode.DEADLINE_EXCEEDED, applied=True)
    run = await driver.call("create_run", "p", "d", "nightly-1", task_id=("t", "v"))
    assert run.action.id.run == RUN
    assert run.action.id.name == "a0"
    assert len(backend.calls_to("CreateRun")) == 2


async def test_an_unnamed_run_is_never_retried(driver: Driver2, backend: ScriptedFlyte2) -> None:
    backend.fail("CreateRun", grpc.StatusCode.UNAVAILABLE)
    with pytest.raises(FlyteSystemUnavailableException):
        await driver.call("create_run", "p", "d", None, task_id=("t", "v"))
    assert len(backend.calls_to("CreateRun")) == 1


async def test_already_exists_on_the_first_attempt_is_raised(driver: Driver2, backend: ScriptedFlyte2) -> None:
    await driver.call("create_run", "p", "d", "taken", task_id=("t", "v"))
    with pytest.raises(FlyteEntityAlreadyExistsException):
        await driver.call("create_run", "p", "d", "taken", task_id=("t", "v"))


# ---------------------------------------------------------------------------------------------------- watches


async def test_watch_ends_at_a_terminal_phase(driver: Driver2, backend: ScriptedFlyte2) -> None:
    backend.phases["nightly-1"] = [
        phase_pb2.ACTION_PHASE_QUEUED,
        phase_pb2.ACTION_PHASE_RUNNING,
        phase_pb2.ACTION_PHASE_SUCCEEDED,
        phase_pb2.ACTION_PHASE_SUCCEEDED,
    ]
    states = await driver.collect("watch_run_details", RUN)
    assert [RunPhase.of(d.action.status.phase).name for d in states] == ["QUEUED", "RUNNING", "SUCCEEDED"]


async def test_watch_reconnects_after_a_cut_and_resumes(driver: Driver2, backend: ScriptedFlyte2) -> None:
    backend.phases["nightly-1"] = [
        phase_pb2.ACTION_PHASE_QUEUED,
        phase_pb2.ACTION_PHASE_RUNNING,
        phase_pb2.ACTION_PHASE_RUNNING,
        phase_pb2.ACTION_PHASE_FAILED,
    ]
    backend.cut_after = 2  # the first stream dies after QUEUED, RUNNING; the second starts again at RUNNING
    states = await driver.collect("watch_run_details", RUN)
    assert [RunPhase.of(d.action.status.phase).name for d in states] == ["QUEUED", "RUNNING", "FAILED"]
    assert len(backend.calls_to("WatchRunDetails")) == 2


async def test_watch_gives_up_after_the_outage_tolerance(backend: ScriptedFlyte2) -> None:
    backend.fail("WatchRunDetails", grpc.StatusCode.UNAVAILABLE, times=1000)
    with Flyte2Client(backend.config(outage_tolerance=0.3)) as client, pytest.raises(FlyteSystemUnavailableException):
        list(client.watch_run_details(RUN))
    assert len(backend.calls_to("WatchRunDetails")) > 2


async def test_watch_does_not_reconnect_on_permanent_errors(driver: Driver2, backend: ScriptedFlyte2) -> None:
    backend.fail("WatchRunDetails", grpc.StatusCode.PERMISSION_DENIED)
    with pytest.raises(FlyteAuthenticationException, match="PERMISSION_DENIED"):
        await driver.collect("watch_run_details", RUN)
    assert len(backend.calls_to("WatchRunDetails")) == 1


async def test_watch_runs_reconnects_and_skips_states_already_seen(driver: Driver2, backend: ScriptedFlyte2) -> None:
    backend.phases["a"] = [phase_pb2.ACTION_PHASE_RUNNING]
    backend.phases["b"] = [phase_pb2.ACTION_PHASE_QUEUED]
    backend.phases["c"] = [phase_pb2.ACTION_PHASE_SUCCEEDED]
    backend.cut_after = 1  # RST_STREAM after "a"; the next stream sends a, b, c and ends with UNAVAILABLE
    runs = await driver.collect("watch_runs", "p", "d", limit=3)
    assert [run.action.id.run.name for run in runs] == ["a", "b", "c"]
    assert len(backend.calls_to("WatchRuns")) == 2


# ---------------------------------------------------------------------------------------------------- auth


@pytest.mark.parametrize("is_async", [False, True])
async def test_client_credentials_with_the_advertised_header(
    backend: ScriptedFlyte2, idp: FakeIdentityProvider, is_async: bool
) -> None:
    config = backend.config(auth_mode="client_credentials", client_id=idp.client_id, client_credentials_secret=SECRET)
    driver = await _driver(config, is_async)
    try:
        await driver.call("get_run_details", RUN)
        await driver.collect("watch_run_details", RUN)
    finally:
        await _close(driver)
    assert backend.calls_to("GetPublicClientConfig")  # flyteidl2.auth.AuthMetadataService
    for rpc in ("GetRunDetails", "WatchRunDetails"):
        assert backend.calls_to(rpc)[0].metadata["flyte-authorization"] == "Bearer tok-1"


@pytest.mark.parametrize("is_async", [False, True])
async def test_api_key_runs_the_client_credentials_flow(
    backend: ScriptedFlyte2, idp: FakeIdentityProvider, is_async: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLYTE_API_KEY", encode_api_key(f"dns:///{backend.endpoint}", idp.client_id, SECRET, "acme"))
    config = PlatformConfig.from_api_key(insecure=True, retry_initial_backoff=0.01)
    assert (config.endpoint, config.auth_mode, config.backend) == (backend.endpoint, AuthMode.API_KEY, Backend.FLYTE2)
    driver = await _driver(config, is_async)
    try:
        assert driver.client.org == "acme"
        await driver.call("abort_run", "p:d:nightly-1")
    finally:
        await _close(driver)
    call = backend.calls_to("AbortRun")[0]
    assert call.metadata["flyte-authorization"] == "Bearer tok-1"
    assert call.request.run_id.org == "acme"
    token_request = idp.requests[-1]
    assert token_request.form["grant_type"] == "client_credentials"
    assert token_request.headers["authorization"] == idp.expected_basic()


def test_an_expired_token_on_a_watch_is_refreshed_once(backend: ScriptedFlyte2, idp: FakeIdentityProvider) -> None:
    config = backend.config(auth_mode="client_credentials", client_id=idp.client_id, client_credentials_secret=SECRET)
    with Flyte2Client(config) as client:
        client.get_run_details(RUN)
        assert backend.valid_tokens is not None
        backend.valid_tokens.clear()  # the server revokes tok-1
        states = list(client.watch_run_details(RUN))
    assert RunPhase.of(states[-1].action.status.phase) is RunPhase.SUCCEEDED
    assert backend.calls_to("WatchRunDetails")[-1].metadata["flyte-authorization"] == "Bearer tok-2"


def test_api_keys_never_show_their_secret(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    key = encode_api_key("flyte.example.com:443", "airflow", SECRET, "None")
    decoded = decode_api_key(key)
    assert (decoded.endpoint, decoded.client_id, decoded.client_secret, decoded.org) == (
        "flyte.example.com:443",
        "airflow",
        SECRET,
        None,
    )
    config = PlatformConfig.from_api_key(key)
    assert config.endpoint == "flyte.example.com:443"
    for text in (repr(config), str(config), repr(decoded)):
        assert SECRET not in text
        assert key not in text
    bad = base64.b64encode(f"only-two:{SECRET}".encode()).decode()
    for value in (bad, "not base64 at all!", SECRET):
        with pytest.raises(FlyteConfigurationException, match="api_key is not a Flyte 2 API key") as raised:
            decode_api_key(value)
        assert SECRET not in str(raised.value)
        assert value not in str(raised.value)
    monkeypatch.delenv("FLYTE_API_KEY", raising=False)
    with pytest.raises(FlyteConfigurationException, match="FLYTE_API_KEY"):
        PlatformConfig.from_api_key()
    with caplog.at_level(logging.DEBUG):
        RawFlyte2Client(config.with_overrides(insecure=True)).close()
    assert SECRET not in caplog.text


def test_the_sdk_decodes_our_keys_the_same_way() -> None:
    from flyte.remote._client.auth._auth_utils import decode_api_key as sdk_decode

    key = encode_api_key("flyte.example.com", "airflow", "secret", "acme")
    ours = decode_api_key(key)
    assert sdk_decode(key) == (ours.endpoint, ours.client_id, ours.client_secret, ours.org)


def test_backend_setting() -> None:
    assert PlatformConfig().backend is Backend.FLYTE1
    assert PlatformConfig(backend="V2").backend is Backend.FLYTE2
    assert PlatformConfig(backend="auto").backend is Backend.AUTO
    with pytest.raises(FlyteConfigurationException, match="backend='flyte3' is not a known backend"):
        PlatformConfig(backend="flyte3")


def test_a_second_backend_on_the_same_client_stays_separate() -> None:
    with serve_flyte2() as other, Flyte2Client(other.config()) as client:
        assert client.latest_task_version("p", "d", "t") == "v7"
