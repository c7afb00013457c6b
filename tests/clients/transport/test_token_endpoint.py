"""A client secret is not sent to a plain-http token endpoint off this machine while the gRPC channel uses TLS.

Lifted by ``allow_insecure_token_endpoint=True``; irrelevant with ``insecure=True``; loopback endpoints are allowed
(the secret does not leave the machine: the sandbox with ``tls=True, auth=True`` serves its token endpoint so).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest
from flyte_admin_sandbox import tls
from flyteidl.admin import execution_pb2
from transport_fake_admin import ScriptedAdmin, serve_admin

from airflow_provider_flyte.clients.auth import AuthServerMetadata, ClientCredentialsFlow
from airflow_provider_flyte.clients.raw import RawAsyncFlyteClient, RawSynchronousFlyteClient
from airflow_provider_flyte.configuration import PlatformConfig
from airflow_provider_flyte.exceptions import FlyteConfigurationException, FlyteSystemUnavailableException
from airflow_provider_flyte.waiting import is_transient

SECRET = "s3cr:t/+value"
REMOTE_HTTP = "http://idp.example.com/oauth2/token"


def refusal(url: str, endpoint: str) -> str:
    return (
        f"refusing to send the client secret to the plain-http token endpoint {url}: the gRPC channel to {endpoint} "
        "uses TLS, but anyone on the network path could read the secret over http. Serve the token endpoint over "
        "https, or set allow_insecure_token_endpoint=True to send it anyway"
    )


def flow_with(config: PlatformConfig, token_endpoint: str, sent: list[httpx.Request]) -> ClientCredentialsFlow:
    """A client-credentials flow whose token requests land in ``sent`` (answered with a token)."""

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"access_token": "tok", "expires_in": 60})

    client = httpx.Client(transport=httpx.MockTransport(answer))
    metadata = AuthServerMetadata(token_endpoint=token_endpoint)
    return ClientCredentialsFlow(config, lambda: metadata, http_client=lambda: client)


def credentials(**overrides: object) -> PlatformConfig:
    settings: dict[str, object] = {
        "endpoint": "flyte.example.com:443",
        "auth_mode": "client_credentials",
        "client_id": "airflow",
        "client_credentials_secret": SECRET,
    }
    settings.update(overrides)
    return PlatformConfig(**settings)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("token_endpoint", "shown"),
    [
        (REMOTE_HTTP, REMOTE_HTTP),
        ("HTTP://idp.example.com:8080/token?client=1#x", "http://idp.example.com:8080/token"),
        ("http://user:pw@10.0.0.7/token", "http://10.0.0.7/token"),  # credentials in the URL are not repeated
    ],
)
def test_the_secret_is_not_sent_over_http_when_the_channel_uses_tls(token_endpoint: str, shown: str) -> None:
    sent: list[httpx.Request] = []
    with pytest.raises(FlyteConfigurationException) as raised:
        flow_with(credentials(), token_endpoint, sent).fetch(None)
    assert str(raised.value) == refusal(shown, "flyte.example.com:443")
    assert sent == []


@pytest.mark.parametrize(
    ("overrides", "token_endpoint"),
    [
        ({"allow_insecure_token_endpoint": True}, REMOTE_HTTP),
        ({"allow_insecure_token_endpoint": "true"}, REMOTE_HTTP),
        ({"insecure": True}, REMOTE_HTTP),
        ({}, "https://idp.example.com/oauth2/token"),
        ({}, "http://127.0.0.1:8089/oauth2/token"),
        ({}, "http://localhost/oauth2/token"),
        ({}, "http://[::1]:8089/oauth2/token"),
    ],
    ids=["opt-in", "opt-in-string", "insecure-channel", "https", "loopback-v4", "localhost", "loopback-v6"],
)
def test_the_secret_is_sent_when_allowed(overrides: dict[str, object], token_endpoint: str) -> None:
    sent: list[httpx.Request] = []
    token = flow_with(credentials(**overrides), token_endpoint, sent).fetch(None)
    assert token.access_token == "tok"
    (request,) = sent
    assert str(request.url) == token_endpoint
    assert request.headers["authorization"].startswith("Basic ")


@pytest.fixture
def tls_admin(tmp_path: Path) -> Iterator[tuple[ScriptedAdmin, Path]]:
    """An Admin over TLS (its CA file alongside) advertising a plain-http token endpoint on another host."""
    material = tls.generate(tmp_path, hosts=("localhost", "127.0.0.1"))
    server_credentials = grpc.ssl_server_credentials([(material.private_key, material.certificate_chain)])
    with serve_admin(server_credentials=server_credentials) as admin:
        admin.token_endpoint = REMOTE_HTTP
        yield admin, material.ca_path


async def get_execution(kind: str, config: PlatformConfig) -> None:
    request = execution_pb2.WorkflowExecutionGetRequest()
    if kind == "sync":
        with RawSynchronousFlyteClient(config) as raw:
            raw.admin_service.GetExecution(request)
    else:
        async with RawAsyncFlyteClient(config) as aio:
            await aio.admin_service.GetExecution(request)


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_both_clients_refuse_before_the_call(tls_admin: tuple[ScriptedAdmin, Path], kind: str) -> None:
    admin, ca_path = tls_admin
    config = admin.config(
        insecure=False,
        ca_cert_file_path=str(ca_path),
        auth_mode="client_credentials",
        client_id="airflow",
        client_credentials_secret=SECRET,
    )
    with pytest.raises(FlyteConfigurationException) as raised:
        await get_execution(kind, config)
    assert str(raised.value) == refusal(REMOTE_HTTP, admin.endpoint)
    assert SECRET not in str(raised.value)
    assert admin.calls_to("GetExecution") == []  # only the auth metadata RPCs that name the token endpoint ran
    assert admin.calls_to("GetOAuth2Metadata")


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_a_token_endpoint_that_is_down_for_now_is_a_transient_failure(status: int) -> None:
    # During an Admin restart its token endpoint is down too: waits must ride that out like an UNAVAILABLE RPC.
    client = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(status)))
    metadata = AuthServerMetadata(token_endpoint="https://idp.example.com/token")
    flow = ClientCredentialsFlow(credentials(), lambda: metadata, http_client=lambda: client)
    with pytest.raises(FlyteSystemUnavailableException, match=f"unavailable for now \\(HTTP {status}\\)") as raised:
        flow.fetch(None)
    assert is_transient(raised.value)
    assert SECRET not in str(raised.value)


def test_an_unreachable_token_endpoint_is_a_transient_failure() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client = httpx.Client(transport=httpx.MockTransport(refuse))
    metadata = AuthServerMetadata(token_endpoint="https://idp.example.com/token")
    flow = ClientCredentialsFlow(credentials(), lambda: metadata, http_client=lambda: client)
    with pytest.raises(FlyteSystemUnavailableException, match="could not reach the token endpoint") as raised:
        flow.fetch(None)
    assert is_transient(raised.value)
