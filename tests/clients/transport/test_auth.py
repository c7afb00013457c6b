"""Auth: token flows against a fake identity provider, the header key the server advertises, refresh rules."""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from urllib.parse import parse_qs, urlsplit

import grpc
import httpx
import pytest
from flyteidl.admin import execution_pb2
from flyteidl.core import identifier_pb2
from flyteidl.service import identity_pb2
from transport_fake_admin import ScriptedAdmin, serve_admin
from transport_fake_idp import FakeIdentityProvider

from airflow_provider_flyte.clients.auth import (
    ClientCredentialsFlow,
    DeviceCodeFlow,
    ExternalCommandFlow,
    PkceFlow,
    ServerMetadataCache,
    StaticTokenFlow,
    Token,
    TokenSource,
    fetch_auth_server_metadata,
    token_source_for,
)
from airflow_provider_flyte.clients.auth.flows import basic_authorization
from airflow_provider_flyte.clients.auth.token_source import jwt_expires_in
from airflow_provider_flyte.clients.raw import RawAsyncFlyteClient, RawSynchronousFlyteClient
from airflow_provider_flyte.configuration import AuthMode
from airflow_provider_flyte.exceptions import (
    FlyteAuthenticationException,
    FlyteConfigurationException,
    FlyteSystemException,
)
from tests.support.clients import RecordedSleeps

GET = execution_pb2.WorkflowExecutionGetRequest(
    id=identifier_pb2.WorkflowExecutionIdentifier(project="p", domain="d", name="n")
)
SECRET = "s3cr:t/+value"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def client_credentials_source(admin: ScriptedAdmin, idp: FakeIdentityProvider, **kwargs: object) -> TokenSource:
    config = admin.config(auth_mode="client_credentials", client_id=idp.client_id, client_credentials_secret=SECRET)
    metadata = ServerMetadataCache(lambda: fetch_auth_server_metadata(config))
    return TokenSource(ClientCredentialsFlow(config, metadata), header_key=metadata.header_key, **kwargs)  # type: ignore[arg-type]


def bearer(admin: ScriptedAdmin, call_index: int = -1) -> str:
    calls = [c for c in admin.calls if c.rpc not in ("GetPublicClientConfig", "GetOAuth2Metadata")]
    return calls[call_index].metadata.get(admin.authorization_metadata_key, "")


def test_client_credentials_token_is_sent_with_the_advertised_key(
    admin: ScriptedAdmin, idp: FakeIdentityProvider
) -> None:
    admin.authorization_metadata_key = "flyte-authorization"
    admin.scopes = ["all", "offline"]
    admin.audience = "flyte-api"
    config = admin.config(auth_mode="client_credentials", client_id=idp.client_id, client_credentials_secret=SECRET)
    with RawSynchronousFlyteClient(config) as raw:
        raw.admin_service.GetExecution(GET)
        raw.identity_service.UserInfo(identity_pb2.UserInfoRequest())
        assert raw.token_source is not None
        assert raw.token_source.header_key == "flyte-authorization"
    assert [bearer(admin, i) for i in (0, 1)] == ["Bearer tok-1", "Bearer tok-1"]
    assert "authorization" not in admin.calls_to("GetExecution")[0].metadata
    assert idp.issued == ["tok-1"]  # fetched once, before the first call, then cached
    (token_request,) = idp.requests
    assert token_request.headers["authorization"] == idp.expected_basic()
    assert token_request.form == {"grant_type": "client_credentials", "scope": "all offline", "audience": "flyte-api"}
    # The auth metadata was asked for without a token, once.
    assert len(admin.calls_to("GetPublicClientConfig")) == 1
    assert "authorization" not in admin.calls_to("GetPublicClientConfig")[0].metadata


def test_configured_scopes_and_secret_file_win(admin: ScriptedAdmin, idp: FakeIdentityProvider, tmp_path) -> None:  # type: ignore[no-untyped-def]
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET + "\n")
    config = admin.config(
        auth_mode="client_credentials",
        client_id=idp.client_id,
        client_credentials_secret_file=str(secret_file),
        scopes=["custom"],
    )
    with RawSynchronousFlyteClient(config) as raw:
        raw.admin_service.GetExecution(GET)
    assert idp.requests[0].form["scope"] == "custom"


def test_basic_authorization_quotes_both_parts() -> None:
    import base64

    value = basic_authorization("my id", "a:b/c+d")
    assert base64.b64decode(value.removeprefix("Basic ")).decode() == "my+id:a%3Ab%2Fc%2Bd"


def test_token_is_refreshed_shortly_before_expiry(admin: ScriptedAdmin, idp: FakeIdentityProvider) -> None:
    idp.expires_in = 300
    clock = FakeClock()
    source = client_credentials_source(admin, idp, clock=clock)
    with RawSynchronousFlyteClient(admin.config(), token_source=source) as raw:
        raw.admin_service.GetExecution(GET)
        clock.now += 260  # 40 s left: more than the margin (min(60 s, 10 % of 300 s) = 30 s)
        raw.admin_service.GetExecution(GET)
        assert idp.issued == ["tok-1"]
        clock.now += 15  # 25 s left: inside the margin
        raw.admin_service.GetExecution(GET)
    assert idp.issued == ["tok-1", "tok-2"]
    assert bearer(admin) == "Bearer tok-2"


def test_unauthenticated_triggers_one_refresh_and_a_resend(admin: ScriptedAdmin, idp: FakeIdentityProvider) -> None:
    config = admin.config(auth_mode="client_credentials", client_id=idp.client_id, client_credentials_secret=SECRET)
    with RawSynchronousFlyteClient(config) as raw:
        raw.admin_service.GetExecution(GET)
        assert admin.valid_tokens is not None
        admin.valid_tokens.discard("tok-1")  # revoked server-side
        raw.admin_service.GetExecution(GET)
    assert idp.issued == ["tok-1", "tok-2"]
    assert [c.metadata["authorization"] for c in admin.calls_to("GetExecution")] == [
        "Bearer tok-1",
        "Bearer tok-1",
        "Bearer tok-2",
    ]


def test_unauthenticated_after_refresh_raises(admin: ScriptedAdmin, idp: FakeIdentityProvider) -> None:
    idp.on_issue = lambda token: None  # the Admin accepts none of the tokens
    config = admin.config(auth_mode="client_credentials", client_id=idp.client_id, client_credentials_secret=SECRET)
    with RawSynchronousFlyteClient(config) as raw, pytest.raises(FlyteAuthenticationException) as raised:
        raw.admin_service.GetExecution(GET)
    assert raised.value.code == "UNAUTHENTICATED"
    assert len(admin.calls_to("GetExecution")) == 2
    assert idp.issued == ["tok-1", "tok-2"]


def test_unknown_triggers_one_refresh_and_a_resend_with_the_new_token(
    admin: ScriptedAdmin, idp: FakeIdentityProvider
) -> None:
    config = admin.config(auth_mode="client_credentials", client_id=idp.client_id, client_credentials_secret=SECRET)
    with RawSynchronousFlyteClient(config) as raw:
        raw.get_execution(GET)
        admin.fail("GetExecution", grpc.StatusCode.UNKNOWN)  # e.g. a proxy rejecting a token it considers expired
        raw.get_execution(GET)
    assert idp.issued == ["tok-1", "tok-2"]
    assert [c.metadata["authorization"] for c in admin.calls_to("GetExecution")] == [
        "Bearer tok-1",
        "Bearer tok-1",
        "Bearer tok-2",
    ]


async def test_async_unknown_after_the_refresh_raises(admin: ScriptedAdmin, idp: FakeIdentityProvider) -> None:
    config = admin.config(auth_mode="client_credentials", client_id=idp.client_id, client_credentials_secret=SECRET)
    admin.fail("GetExecution", grpc.StatusCode.UNKNOWN, times=2)
    async with RawAsyncFlyteClient(config) as raw:
        with pytest.raises(FlyteSystemException) as raised:
            await raw.get_execution(GET)
    assert raised.value.code == "UNKNOWN"
    assert len(admin.calls_to("GetExecution")) == 2
    assert idp.issued == ["tok-1", "tok-2"]


def test_a_static_token_is_not_resent_after_unknown() -> None:
    with serve_admin(with_auth_metadata=False) as admin:
        admin.valid_tokens = {"static-abc"}
        admin.fail("GetExecution", grpc.StatusCode.UNKNOWN)
        config = admin.config(auth_mode=AuthMode.STATIC_TOKEN, static_token="static-abc")
        with RawSynchronousFlyteClient(config) as raw, pytest.raises(FlyteSystemException):
            raw.admin_service.GetExecution(GET)
        assert len(admin.calls_to("GetExecution")) == 1  # refreshing cannot change a static token


@pytest.mark.parametrize(
    ("code", "rpc", "message", "resent"),
    [
        (grpc.StatusCode.UNAUTHENTICATED, "CreateExecution", execution_pb2.ExecutionCreateRequest(), True),
        (grpc.StatusCode.UNKNOWN, "GetExecution", GET, True),
        (grpc.StatusCode.UNKNOWN, "CreateTask", None, True),
        (grpc.StatusCode.UNKNOWN, "CreateExecution", execution_pb2.ExecutionCreateRequest(name="run-1"), True),
        (grpc.StatusCode.UNKNOWN, "CreateExecution", execution_pb2.ExecutionCreateRequest(), False),
        (grpc.StatusCode.UNKNOWN, "RelaunchExecution", execution_pb2.ExecutionRelaunchRequest(), False),
        (grpc.StatusCode.UNKNOWN, "RecoverExecution", execution_pb2.ExecutionRecoverRequest(), False),
        (grpc.StatusCode.PERMISSION_DENIED, "GetExecution", GET, False),
        (grpc.StatusCode.UNAVAILABLE, "GetExecution", GET, False),
    ],
)
def test_which_failures_refresh_the_token_and_resend(
    code: grpc.StatusCode, rpc: str, message: object, resent: bool
) -> None:
    from airflow_provider_flyte.clients.interceptors import refresh_and_resend

    assert refresh_and_resend(code, f"/flyteidl.service.AdminService/{rpc}", message) is resent
    assert refresh_and_resend(code, f"/flyteidl.service.AdminService/{rpc}".encode(), message) is resent  # grpc.aio


def test_one_refresh_across_threads(admin: ScriptedAdmin, idp: FakeIdentityProvider) -> None:
    idp.token_delay = 0.2  # keeps the first fetch in flight while the other threads arrive
    source = client_credentials_source(admin, idp)
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []
    with RawSynchronousFlyteClient(admin.config(), token_source=source) as raw:

        def worker() -> None:
            try:
                barrier.wait()
                raw.admin_service.GetExecution(GET)
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert idp.issued == ["tok-1"]
        assert source.fetch_count == 1

        assert admin.valid_tokens is not None
        admin.valid_tokens.clear()  # every thread is now refused once
        barrier.reset()
        threads = [threading.Thread(target=worker) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert idp.issued == ["tok-1", "tok-2"]


async def test_one_refresh_across_asyncio_tasks_and_with_a_sync_client(
    admin: ScriptedAdmin, idp: FakeIdentityProvider
) -> None:
    idp.token_delay = 0.2
    source = client_credentials_source(admin, idp)
    async with RawAsyncFlyteClient(admin.config(), token_source=source) as raw:
        await asyncio.gather(*(raw.admin_service.GetExecution(GET) for _ in range(8)))
        assert idp.issued == ["tok-1"]
        assert admin.valid_tokens is not None
        admin.valid_tokens.clear()
        await asyncio.gather(*(raw.admin_service.GetExecution(GET) for _ in range(8)))
        assert idp.issued == ["tok-1", "tok-2"]
    # The same source serves a sync client without fetching again.
    with RawSynchronousFlyteClient(admin.config(), token_source=source) as sync_raw:
        sync_raw.admin_service.GetExecution(GET)
    assert idp.issued == ["tok-1", "tok-2"]
    assert bearer(admin) == "Bearer tok-2"


async def test_async_fetch_does_not_block_the_event_loop(admin: ScriptedAdmin, idp: FakeIdentityProvider) -> None:
    idp.token_delay = 0.3
    source = client_credentials_source(admin, idp)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        await source.metadata_async()
    finally:
        task.cancel()
    assert ticks > 0  # the loop kept running while the token was fetched


async def test_async_refresh_on_unauthenticated(admin: ScriptedAdmin, idp: FakeIdentityProvider) -> None:
    config = admin.config(auth_mode="client_credentials", client_id=idp.client_id, client_credentials_secret=SECRET)
    async with RawAsyncFlyteClient(config) as raw:
        await raw.admin_service.GetExecution(GET)
        assert admin.valid_tokens is not None
        admin.valid_tokens.clear()
        await raw.admin_service.GetExecution(GET)
    assert idp.issued == ["tok-1", "tok-2"]


def test_static_token_and_default_key_when_auth_metadata_is_unimplemented() -> None:
    with serve_admin(with_auth_metadata=False) as admin:
        admin.valid_tokens = {"static-abc"}
        config = admin.config(auth_mode=AuthMode.STATIC_TOKEN, static_token="static-abc")
        with RawSynchronousFlyteClient(config) as raw:
            raw.admin_service.GetExecution(GET)
        assert admin.calls_to("GetExecution")[0].metadata["authorization"] == "Bearer static-abc"
        admin.valid_tokens = set()
        with RawSynchronousFlyteClient(config) as raw, pytest.raises(FlyteAuthenticationException):
            raw.admin_service.GetExecution(GET)
        assert len(admin.calls_to("GetExecution")) == 2  # a static token is not re-sent after UNAUTHENTICATED


def test_external_command_prints_the_token(admin: ScriptedAdmin) -> None:
    admin.valid_tokens = {"tok-from-command"}
    command = (sys.executable, "-c", "print('  tok-from-command  ')")
    config = admin.config(auth_mode="external_command", command=command)
    with RawSynchronousFlyteClient(config) as raw:
        raw.admin_service.GetExecution(GET)
    assert bearer(admin) == "Bearer tok-from-command"


def test_failing_external_command_error_names_program_not_output() -> None:
    command = (sys.executable, "-c", "import sys; print('hunter2-secret', file=sys.stderr); sys.exit(3)")
    with pytest.raises(FlyteAuthenticationException) as raised:
        ExternalCommandFlow(command).fetch(None)
    assert "status 3" in str(raised.value)
    assert "hunter2" not in str(raised.value)
    with pytest.raises(FlyteAuthenticationException, match="printed no token"):
        ExternalCommandFlow((sys.executable, "-c", "pass")).fetch(None)
    with pytest.raises(FlyteAuthenticationException, match="could not start"):
        ExternalCommandFlow(("/nonexistent/token-helper",)).fetch(None)


def test_proxy_command_adds_proxy_authorization_everywhere(admin: ScriptedAdmin, idp: FakeIdentityProvider) -> None:
    config = admin.config(
        auth_mode="client_credentials",
        client_id=idp.client_id,
        client_credentials_secret=SECRET,
        proxy_command=(sys.executable, "-c", "print('proxy-tok')"),
    )
    with RawSynchronousFlyteClient(config) as raw:
        raw.admin_service.GetExecution(GET)
    for call in admin.calls:  # the auth metadata calls too: the proxy sits in front of everything
        assert call.metadata["proxy-authorization"] == "Bearer proxy-tok"
    assert admin.calls_to("GetExecution")[0].metadata["authorization"] == "Bearer tok-1"


def test_jwt_expiry_is_read_from_command_tokens() -> None:
    import base64
    import json

    payload = base64.urlsafe_b64encode(json.dumps({"exp": 2000}).encode()).rstrip(b"=").decode()
    assert jwt_expires_in(f"h.{payload}.s", now=1500) == 500
    assert jwt_expires_in("opaque-token") is None
    assert jwt_expires_in("a.!!!.c") is None


def test_pkce_fails_at_once_when_not_interactive(admin: ScriptedAdmin, idp: FakeIdentityProvider) -> None:
    config = admin.config(auth_mode="pkce", rpc_retries=3)
    with RawSynchronousFlyteClient(config) as raw, pytest.raises(FlyteAuthenticationException) as raised:
        raw.admin_service.GetExecution(GET)  # pytest's stdin is not a terminal
    assert "client_credentials" in str(raised.value)
    assert "external_command" in str(raised.value)
    assert admin.calls == []  # nothing was sent, not even the auth metadata request
    assert idp.requests == []


def test_pkce_interactive_flow_with_s256_and_state(admin: ScriptedAdmin, idp: FakeIdentityProvider) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    admin.redirect_uri = f"http://127.0.0.1:{port}/callback"
    config = admin.config(auth_mode="pkce")
    opened: list[str] = []

    def browser(url: str) -> None:
        opened.append(url)
        query = {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
        assert query["code_challenge_method"] == "S256"
        assert query["client_id"] == "flytectl"
        assert query["redirect_uri"] == admin.redirect_uri
        idp.pkce_challenges["code-1"] = query["code_challenge"]
        httpx.get(f"{admin.redirect_uri}?code=code-1&state={query['state']}")

    metadata = ServerMetadataCache(lambda: fetch_auth_server_metadata(config))
    flow = PkceFlow(config, metadata, interactive=lambda: True, open_browser=browser, callback_timeout=30)
    token = flow.fetch(None)
    assert token.access_token == "tok-1"
    assert token.refresh_token == "refresh-tok-1"
    assert opened
    assert opened[0].startswith(idp.authorization_endpoint)
    # Later refreshes use the refresh token, even without a person at the keyboard.
    refreshed = PkceFlow(config, metadata, interactive=lambda: False).fetch(token)
    assert refreshed.access_token == "tok-2"


def test_pkce_rejects_a_wrong_state(admin: ScriptedAdmin, idp: FakeIdentityProvider) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    admin.redirect_uri = f"http://127.0.0.1:{port}/callback"
    config = admin.config(auth_mode="pkce")

    def browser(url: str) -> None:
        httpx.get(f"{admin.redirect_uri}?code=code-1&state=forged")

    metadata = ServerMetadataCache(lambda: fetch_auth_server_metadata(config))
    flow = PkceFlow(config, metadata, interactive=lambda: True, open_browser=browser, callback_timeout=30)
    with pytest.raises(FlyteAuthenticationException, match="state"):
        flow.fetch(None)


def test_device_flow_polls_and_honours_slow_down(
    admin: ScriptedAdmin, idp: FakeIdentityProvider, sleeps: RecordedSleeps
) -> None:
    idp.device_script.extend(["authorization_pending", "slow_down", "authorization_pending", "ok"])
    config = admin.config(auth_mode="device_flow")
    shown: list[str] = []
    metadata = ServerMetadataCache(lambda: fetch_auth_server_metadata(config))
    flow = DeviceCodeFlow(config, metadata, announce=shown.append, sleep=sleeps.sleep)
    with RawSynchronousFlyteClient(config, token_source=TokenSource(flow, header_key=metadata.header_key)) as raw:
        raw.admin_service.GetExecution(GET)
    assert bearer(admin) == "Bearer tok-1"
    assert sleeps == [1, 1, 6, 6]  # the interval grows by 5 s after slow_down
    assert len(shown) == 1
    assert "ABCD-EFGH" in shown[0]
    assert "/activate" in shown[0]
    assert idp.requests[0].path == "/device"
    assert idp.requests[0].form["client_id"] == "flytectl"
    assert idp.requests[1].form["device_code"] == "dev-123"


@pytest.mark.parametrize(("step", "message"), [("expired_token", "expired"), ("access_denied", "denied")])
def test_device_flow_failures(
    admin: ScriptedAdmin, idp: FakeIdentityProvider, sleeps: RecordedSleeps, step: str, message: str
) -> None:
    idp.device_script.extend(["authorization_pending", step])
    config = admin.config(auth_mode="device_flow")
    metadata = ServerMetadataCache(lambda: fetch_auth_server_metadata(config))
    flow = DeviceCodeFlow(config, metadata, announce=lambda text: None, sleep=sleeps.sleep)
    with pytest.raises(FlyteAuthenticationException, match=message):
        flow.fetch(None)


def test_device_flow_gives_up_when_the_code_expires(
    admin: ScriptedAdmin, idp: FakeIdentityProvider, sleeps: RecordedSleeps
) -> None:
    idp.device_script.extend(["authorization_pending"] * 100)
    idp.device_expires_in = 5
    clock = FakeClock()

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock.now += seconds

    config = admin.config(auth_mode="device_flow")
    metadata = ServerMetadataCache(lambda: fetch_auth_server_metadata(config))
    flow = DeviceCodeFlow(config, metadata, announce=lambda text: None, sleep=sleep, clock=clock)
    with pytest.raises(FlyteAuthenticationException, match="expired"):
        flow.fetch(None)
    assert len(sleeps) == 5  # expires_in=5 at an interval of 1 s


def test_secrets_stay_out_of_logs_errors_and_reprs(
    admin: ScriptedAdmin, idp: FakeIdentityProvider, caplog: pytest.LogCaptureFixture
) -> None:
    wrong_secret = "wrong-" + SECRET
    config = admin.config(
        auth_mode="client_credentials", client_id=idp.client_id, client_credentials_secret=wrong_secret
    )
    with caplog.at_level(logging.DEBUG):
        with RawSynchronousFlyteClient(config) as raw, pytest.raises(FlyteAuthenticationException) as raised:
            raw.admin_service.GetExecution(GET)
        assert "401" in str(raised.value)
        assert "invalid_client" in str(raised.value)
        good = config.with_overrides(client_credentials_secret=SECRET)
        with RawSynchronousFlyteClient(good) as raw:
            raw.admin_service.GetExecution(GET)
            texts = [repr(raw), repr(raw.token_source), repr(raw.token_source.flow), repr(good), str(good)]  # type: ignore[union-attr]
    texts += [str(raised.value), repr(raised.value), repr(Token("tok-1", 10, "refresh-x"))]
    texts += [record.getMessage() for record in caplog.records]
    for text in texts:
        for secret in (SECRET, wrong_secret, "tok-1", "refresh-x", basic_authorization(idp.client_id, SECRET)):
            assert secret not in text


def test_factory_rejects_incomplete_settings(admin: ScriptedAdmin) -> None:
    assert token_source_for(admin.config()) is None
    with pytest.raises(FlyteConfigurationException, match="client_id"):
        token_source_for(admin.config(auth_mode="client_credentials"))
    with pytest.raises(FlyteConfigurationException, match="command"):
        token_source_for(admin.config(auth_mode="external_command"))
    with pytest.raises(FlyteConfigurationException, match="static_token"):
        token_source_for(admin.config(auth_mode="static_token"))
    assert repr(StaticTokenFlow("abc")) == "StaticTokenFlow()"


def test_missing_secret_names_its_source(admin: ScriptedAdmin, idp: FakeIdentityProvider, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("MY_FLYTE_SECRET", raising=False)
    config = admin.config(
        auth_mode="client_credentials", client_id=idp.client_id, client_credentials_secret_env_var="MY_FLYTE_SECRET"
    )
    with RawSynchronousFlyteClient(config) as raw, pytest.raises(FlyteConfigurationException, match="MY_FLYTE_SECRET"):
        raw.admin_service.GetExecution(GET)
    monkeypatch.setenv("MY_FLYTE_SECRET", SECRET)
    with RawSynchronousFlyteClient(config) as raw:
        raw.admin_service.GetExecution(GET)
