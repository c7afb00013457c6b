"""Construction, lifecycle, exports and sync/async parity of the two friendly clients."""

from __future__ import annotations

import inspect
import pathlib

import pytest
from friendly_recording_server import RecordingServer

from airflow_provider_flyte.clients.aio import AsyncFlyteClient
from airflow_provider_flyte.clients.friendly import SynchronousFlyteClient
from airflow_provider_flyte.clients.raw import RawAsyncFlyteClient, RawSynchronousFlyteClient
from airflow_provider_flyte.configuration import PlatformConfig
from airflow_provider_flyte.exceptions import FlyteException, FlyteInvalidInputException

_LIFECYCLE = {"close", "__enter__", "__exit__", "__aenter__", "__aexit__"}


def _public_methods(cls: type) -> dict[str, object]:
    return {
        name: member
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_") and name not in _LIFECYCLE
    }


def test_async_client_has_every_sync_method_with_the_same_signature() -> None:
    sync_methods = _public_methods(SynchronousFlyteClient)
    async_methods = _public_methods(AsyncFlyteClient)

    assert sorted(sync_methods) == sorted(async_methods)
    for name, sync_method in sync_methods.items():
        async_method = async_methods[name]
        sync_parameters = list(inspect.signature(sync_method).parameters.values())
        async_parameters = list(inspect.signature(async_method).parameters.values())
        assert [(p.name, p.kind, p.default) for p in sync_parameters] == [
            (p.name, p.kind, p.default) for p in async_parameters
        ], name
        if name.startswith("iter_") or name == "clear_entity_cache":
            assert not inspect.iscoroutinefunction(async_method), name
        elif name == "paginate":
            assert inspect.isasyncgenfunction(async_method)
        else:
            assert inspect.iscoroutinefunction(async_method), name


def test_flytekit_defaults_are_kept() -> None:
    signature = inspect.signature(SynchronousFlyteClient.list_node_executions)
    defaults = {name: parameter.default for name, parameter in signature.parameters.items()}
    assert defaults["limit"] == 100
    assert defaults["token"] is None
    assert defaults["filters"] is None
    assert defaults["sort_by"] is None
    assert defaults["unique_parent_id"] is None
    assert inspect.signature(SynchronousFlyteClient.get_execution_metrics).parameters["depth"].default == 10
    upload = inspect.signature(SynchronousFlyteClient.get_upload_signed_url).parameters
    assert upload["add_content_md5_metadata"].default is True


def test_endpoint_string_with_insecure_like_flytekit(server: RecordingServer) -> None:
    with SynchronousFlyteClient(server.endpoint, insecure=True) as client:
        assert client.config.endpoint == server.endpoint
        assert client.config.insecure is True
        assert isinstance(client.raw, RawSynchronousFlyteClient)
        assert client.get_domains() == []


def test_insecure_overrides_a_config() -> None:
    with SynchronousFlyteClient(PlatformConfig(endpoint="localhost:1", insecure=False), insecure=True) as client:
        assert client.config.insecure is True
    with SynchronousFlyteClient(PlatformConfig(endpoint="localhost:1", insecure=True)) as client:
        assert client.config.insecure is True


def test_a_config_of_another_type_is_refused() -> None:
    with pytest.raises(FlyteInvalidInputException, match="config must be a PlatformConfig"):
        SynchronousFlyteClient(30080)  # type: ignore[arg-type]
    with pytest.raises(FlyteInvalidInputException, match="entity_cache_size"):
        SynchronousFlyteClient("localhost:1", insecure=True, entity_cache_size=-1)


def test_close_leaves_a_borrowed_raw_client_open(server: RecordingServer, config: PlatformConfig) -> None:
    raw = RawSynchronousFlyteClient(config)
    try:
        with SynchronousFlyteClient(raw=raw) as client:
            assert client.raw is raw
            client.get_domains()
        # Still usable after the friendly client closed.
        with SynchronousFlyteClient(raw=raw) as again:
            again.get_domains()
    finally:
        raw.close()
    assert len(server.calls("GetDomains")) == 2


def test_close_closes_an_owned_channel(config: PlatformConfig) -> None:
    client = SynchronousFlyteClient(config)
    client.close()
    # The raw layer reports a call on a closed channel as a FlyteException (today: INTERNAL).
    with pytest.raises(FlyteException):
        client.get_domains()


async def test_async_client_lifecycle(server: RecordingServer, config: PlatformConfig) -> None:
    async with AsyncFlyteClient(config) as client:
        assert isinstance(client.raw, RawAsyncFlyteClient)
        assert await client.get_domains() == []
    raw = RawAsyncFlyteClient(config)
    async with AsyncFlyteClient(raw=raw) as borrowing:
        await borrowing.get_domains()
    assert await AsyncFlyteClient(raw=raw).get_domains() == []
    await raw.close()
    assert len(server.calls("GetDomains")) == 3


def test_async_client_needs_a_running_loop(config: PlatformConfig) -> None:
    with pytest.raises(RuntimeError):
        AsyncFlyteClient(config)


def test_lazy_exports() -> None:
    from airflow_provider_flyte import clients

    assert clients.SynchronousFlyteClient is SynchronousFlyteClient
    assert clients.AsyncFlyteClient is AsyncFlyteClient
    assert clients.RawSynchronousFlyteClient is RawSynchronousFlyteClient
    assert {"SynchronousFlyteClient", "AsyncFlyteClient"} <= set(clients.__all__)


def test_repr_names_the_endpoint_only() -> None:
    config = PlatformConfig(
        endpoint="localhost:1",
        insecure=True,
        auth_mode="client_credentials",
        client_id="me",
        client_credentials_secret="s3cr3t",
    )
    with SynchronousFlyteClient(config, token_source=None) as client:
        assert repr(client) == "SynchronousFlyteClient(endpoint='localhost:1')"
        assert "s3cr3t" not in repr(client.raw)


def test_no_config_reads_flytekit_environment(
    server: RecordingServer, monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("FLYTE_PLATFORM_URL", server.endpoint)
    monkeypatch.setenv("FLYTE_PLATFORM_INSECURE", "true")

    with SynchronousFlyteClient() as client:
        assert client.config.endpoint == server.endpoint
        client.get_domains()

    assert len(server.calls("GetDomains")) == 1
