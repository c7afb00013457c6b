"""FlyteHook: connection -> settings (validation, coercion, secrets), without a database."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from typing import Any

import pytest
from airflow import __version__ as airflow_version

from airflow_provider_flyte.configuration import AuthMode
from airflow_provider_flyte.exceptions import FlyteConfigurationException
from airflow_provider_flyte.get_provider_info import get_provider_info
from airflow_provider_flyte.hooks.flyte import FlyteAsyncHook, FlyteHook, settings_from_connection
from tests.support.airflow_env import flyte_conn_json

pytestmark = pytest.mark.airflow

AIRFLOW_VERSION = tuple(int(part) for part in airflow_version.split(".")[:2])

URI = "flyte://my-client:s3cr3t-value@flyte.example.com:443?project=flytesnacks&domain=development&insecure=false"


def settings(extra: dict[str, object], **parts: object):  # type: ignore[no-untyped-def]
    base: dict[str, object] = {"host": "flyte.example.com", "port": 443, "login": None, "password": None}
    base.update(parts)
    return settings_from_connection("flyte_test", extra=extra, **base)  # type: ignore[arg-type]


def test_uri_env_var_extras_arrive_as_strings_and_are_coerced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_FLYTE_URI", URI + "&rpc_timeout=12.5&rpc_retries=2&scopes=a%20b")
    hook = FlyteHook("flyte_uri")
    config = hook.platform_config
    assert config.endpoint == "flyte.example.com:443"
    assert config.insecure is False
    assert config.rpc_timeout == 12.5
    assert config.rpc_retries == 2
    assert config.scopes == ("a", "b")
    assert config.client_id == "my-client"
    assert config.auth_mode is AuthMode.CLIENT_CREDENTIALS  # a client secret implies client credentials
    assert (hook.project, hook.domain) == ("flytesnacks", "development")
    assert "s3cr3t-value" not in repr(hook.settings)


def test_hook_arguments_override_connection_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_FLYTE_URI", URI)
    hook = FlyteHook("flyte_uri", project="other", domain="production")
    assert (hook.project, hook.domain) == ("other", "production")
    assert str(hook.execution_id("abc")) == "ex:other:production:abc"
    assert str(hook.execution_id("ex:p:d:n")) == "ex:p:d:n"


def test_async_hook_resolves_the_same_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_FLYTE_URI", URI)
    resolved = asyncio.run(FlyteAsyncHook("flyte_uri").get_settings())
    assert resolved == FlyteHook("flyte_uri").settings


def test_async_hooks_of_one_loop_share_one_connection_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    """A triggerer starts triggers all the time: their hooks share lookups for SETTINGS_TTL seconds."""
    from airflow.providers.common.compat import connection as compat

    from airflow_provider_flyte.hooks import flyte as hook_module

    monkeypatch.setenv("AIRFLOW_CONN_FLYTE_SHARED", URI)
    real_lookup = compat.get_async_connection
    lookups: list[str] = []

    async def counting_lookup(conn_id: str, **kwargs: Any) -> Any:
        lookups.append(conn_id)
        await asyncio.sleep(0.01)  # concurrent callers arrive while the first lookup is in flight
        return await real_lookup(conn_id, **kwargs)

    monkeypatch.setattr(compat, "get_async_connection", counting_lookup)

    async def many_triggers_start() -> list[Any]:
        first = await asyncio.gather(*(FlyteAsyncHook("flyte_shared").get_settings() for _ in range(50)))
        later = await FlyteAsyncHook("flyte_shared").get_settings()
        monkeypatch.setattr(hook_module, "SETTINGS_TTL", 0.0)
        await FlyteAsyncHook("flyte_shared").get_settings()  # the shared lookup expired: fresh one (changed conns)
        await FlyteAsyncHook("flyte_shared").get_settings()
        return [*first, later]

    settings = asyncio.run(many_triggers_start())
    assert all(each == settings[0] for each in settings)
    assert lookups == ["flyte_shared"] * 3  # 51 hooks within the TTL shared one lookup; then one per expiry


def test_a_failed_connection_lookup_is_not_remembered(monkeypatch: pytest.MonkeyPatch) -> None:
    async def lookups() -> FlyteConfigurationException | None:
        with pytest.raises(Exception, match="flyte_later"):
            await FlyteAsyncHook("flyte_later").get_settings()
        monkeypatch.setenv("AIRFLOW_CONN_FLYTE_LATER", URI)
        return (await FlyteAsyncHook("flyte_later").get_settings()).config.endpoint  # type: ignore[return-value]

    assert asyncio.run(lookups()) == "flyte.example.com:443"


_IMPORT_PROBE = """
import asyncio, builtins, os, sys, threading
os.environ["AIRFLOW_CONN_FLYTE_URI"] = sys.argv[1]
from airflow_provider_flyte.hooks.flyte import FlyteAsyncHook
assert "grpc" not in sys.modules, "the hook module loaded grpc"
threads = set()
real_import = builtins.__import__
def recording_import(name, *args, **kwargs):
    if name.startswith("grpc"):
        threads.add(threading.current_thread().name)
    return real_import(name, *args, **kwargs)
builtins.__import__ = recording_import
asyncio.run(FlyteAsyncHook("flyte_uri").get_settings())
print(sorted(threads))
"""


def test_async_hook_imports_the_grpc_stack_off_the_event_loop() -> None:
    # A fresh interpreter: in this one, other tests have loaded grpc already.
    import subprocess
    import sys

    probe = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE, URI], capture_output=True, text=True, check=True, timeout=120
    )
    threads = probe.stdout.strip().splitlines()[-1]
    assert threads != "[]", "grpc was never imported"
    assert "MainThread" not in threads, f"grpc was imported on the event loop's thread: {threads}"


def test_unknown_extra_key_is_named() -> None:
    with pytest.raises(
        FlyteConfigurationException, match=r"connection 'flyte_test' has unknown extra key\(s\) projcet"
    ):
        settings({"projcet": "x"})


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("insecure", "maybe", "insecure='maybe' must be true or false"),
        ("rpc_retries", "two", "rpc_retries='two' must be an integer"),
        ("rpc_timeout", True, "rpc_timeout=True must be a number"),
        ("project", 7, "project=7 must be a string"),
        ("auth_mode", "kerberos", "not a known auth mode"),
        ("rpc_timeout", "nan", "rpc_timeout=nan must be a positive, finite number of seconds"),
        ("allow_insecure_token_endpoint", "maybe", "allow_insecure_token_endpoint='maybe' must be true or false"),
    ],
)
def test_malformed_extra_is_named(key: str, value: object, expected: str) -> None:
    with pytest.raises(FlyteConfigurationException, match="flyte_test") as error:
        settings({key: value})
    assert expected in str(error.value)


def test_static_token_value_never_appears_in_errors() -> None:
    with pytest.raises(FlyteConfigurationException) as error:
        settings({"static_token": 12345678})
    assert "12345678" not in str(error.value)
    assert "static_token=***" in str(error.value)


def test_insecure_token_endpoint_opt_in_is_an_extra() -> None:
    assert settings({"allow_insecure_token_endpoint": "true"}).config.allow_insecure_token_endpoint is True
    assert settings({}).config.allow_insecure_token_endpoint is False


def test_ui_prefixed_and_empty_fields() -> None:
    result = settings({"extra__flyte__project": "p", "extra__flyte__domain": "", "extra__flyte__insecure": True})
    assert result.project == "p"
    assert result.domain is None
    assert result.config.insecure is True


def test_flytekit_only_extras_of_the_old_provider_are_ignored_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        result = settings({"s3_secret_access_key": "hidden-value-1", "statsd_host": "x", "project": "p"})
    assert result.project == "p"
    assert "s3_secret_access_key, statsd_host" in caplog.text
    assert "hidden-value-1" not in caplog.text


@pytest.mark.parametrize(
    ("host", "port", "endpoint"),
    [
        ("dns:///flyte.example.com", None, "flyte.example.com"),
        ("https://flyte.example.com/", 8089, "flyte.example.com:8089"),
        ("localhost:30080", None, "localhost:30080"),
    ],
)
def test_endpoint_forms(host: str, port: int | None, endpoint: str) -> None:
    assert settings({}, host=host, port=port).config.endpoint == endpoint


@pytest.mark.parametrize(
    ("host", "port", "message"),
    [
        (None, None, "has no host"),
        ("flyte.example.com:443", 444, "both in host"),
        ("flyte.example.com", 70000, "outside 1-65535"),
    ],
)
def test_bad_host_or_port(host: str | None, port: int | None, message: str) -> None:
    with pytest.raises(FlyteConfigurationException, match=message):
        settings({}, host=host, port=port)


def test_test_connection_reports_failure_without_raising(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_FLYTE_BAD", '{"conn_type": "flyte", "host": "h", "extra": {"nope": 1}}')
    ok, message = FlyteHook("flyte_bad").test_connection()
    assert ok is False
    assert "nope" in message


def test_provider_info_declares_the_connection_form_and_classes() -> None:
    info = get_provider_info()
    assert info["package-name"] == "airflow-provider-flyte"
    (conn_type,) = info["connection-types"]
    assert conn_type["connection-type"] == FlyteHook.conn_type == "flyte"
    assert conn_type["hook-class-name"] == "airflow_provider_flyte.hooks.flyte.FlyteHook"
    assert conn_type["conn-fields"]["static_token"]["schema"]["format"] == "password"
    # Every conn-field must be an extra the hook accepts.
    settings({name: None for name in conn_type["conn-fields"]})
    assert info["extra-links"] == ["airflow_provider_flyte.links.flyte.FlyteConsoleLink"]


def test_every_form_field_is_optional_and_explained() -> None:
    """Airflow's form marks a field required unless its type admits null (a required switch can never be saved)."""
    (conn_type,) = get_provider_info()["connection-types"]
    for name, field in conn_type["conn-fields"].items():
        assert "null" in field["schema"]["type"], name
        assert field["label"], name
        assert len(field["description"]) > 20, name
        enum = field["schema"].get("enum")
        if enum:
            # The dropdown shows values_display labels; without one, None would show as a literal "null".
            assert set(field["schema"]["values_display"]) == {"null" if value is None else value for value in enum}
        elif "string" in field["schema"]["type"] and field["schema"].get("format") != "password":
            # Airflow 3's form shows a text field's placeholder and suggestions only when it has examples.
            assert field["schema"]["examples"], name
    placeholders = conn_type["ui-field-behaviour"]["placeholders"]
    assert {"host", "port", "login", "password"} <= set(placeholders)


def test_the_api_server_serves_the_form_with_nullable_fields() -> None:
    """What the UI receives from Airflow's own hook-metadata service (the one behind the Add Connection form)."""
    from airflow.api_fastapi.core_api.services.ui import connections as services

    (flyte,) = [meta for meta in services.HookMetaService.hook_meta_data() if meta.connection_type == "flyte"]
    fields = flyte.extra_fields
    assert flyte.standard_fields.host.placeholder.startswith("flyte.example.com")
    if AIRFLOW_VERSION < (3, 2):
        assert fields is None  # Airflow 3.1 reads no conn-fields: its form shows the extra as JSON
        return
    assert fields["insecure"]["schema"]["type"] == ["boolean", "null"]
    assert fields["insecure"]["value"] is None
    assert fields["auth_mode"]["schema"]["values_display"]["null"] == "Automatic"


def test_the_connections_test_command_prints_admins_message_intact(sandbox: Any) -> None:
    """``airflow connections test`` prints through Rich; Admin's "project [nope] not found" keeps its brackets."""
    env = {
        **os.environ,
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        "AIRFLOW_CONN_FLYTE_NOPE": flyte_conn_json(sandbox.endpoint, project="nope", domain="development"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "airflow", "connections", "test", "flyte_nope"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if AIRFLOW_VERSION >= (3, 2):
        assert done.returncode == 1, done.stdout + done.stderr  # Airflow 3.1's command exits 0 on a failed test
    assert "Connection failed!" in done.stdout
    assert "project [nope] not found" in done.stdout


def test_test_connection_outside_the_cli_leaves_the_message_as_it_is(
    sandbox: Any, flyte_connection: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(sys.modules, "airflow.cli.commands.connection_command", raising=False)
    flyte_connection(sandbox.endpoint, conn_id="flyte_missing_project", project="nope")
    ok, message = FlyteHook("flyte_missing_project").test_connection()
    assert ok is False
    assert "project [nope] not found" in message
    assert "\\[" not in message  # the UI shows it as plain text


# ------------------------------------------------------------------------------------------------ Flyte 2 extras


def test_backend_extra_is_coerced_and_named_when_wrong() -> None:
    from airflow_provider_flyte.configuration import Backend

    assert settings({}).config.backend is Backend.FLYTE1
    assert settings({"backend": "flyte2"}).config.backend is Backend.FLYTE2
    assert settings({"extra__flyte__backend": "Auto"}).config.backend is Backend.AUTO
    with pytest.raises(FlyteConfigurationException, match="backend"):
        settings({"backend": "flyte3"})


def test_api_key_auth_takes_the_key_from_the_password_and_never_shows_it() -> None:
    config = settings({"auth_mode": "api_key", "backend": "flyte2"}, password="c2VjcmV0LWtleQ==").config
    assert config.auth_mode is AuthMode.API_KEY
    assert config.api_key == "c2VjcmV0LWtleQ=="
    assert config.client_credentials_secret is None  # the key is not a client secret
    assert "c2VjcmV0LWtleQ" not in repr(config)


def test_the_form_offers_the_backend_and_api_key_auth() -> None:
    (conn_type,) = get_provider_info()["connection-types"]
    fields = conn_type["conn-fields"]
    assert fields["backend"]["schema"]["enum"] == [None, "flyte1", "flyte2", "auto"]
    assert "api_key" in fields["auth_mode"]["schema"]["enum"]
    assert "API key" in conn_type["ui-field-behaviour"]["relabeling"]["password"]


def test_auto_backend_probes_once_per_connection(monkeypatch: pytest.MonkeyPatch, flyte2_sandbox: Any) -> None:
    from airflow_provider_flyte.configuration import Backend
    from airflow_provider_flyte.hooks import _backend

    _backend.forget_backends()
    monkeypatch.setenv("AIRFLOW_CONN_FLYTE_AUTO2", flyte_conn_json(flyte2_sandbox.grpc_endpoint, backend="auto"))
    probes: list[str] = []
    real_probe = _backend.probe_backend
    monkeypatch.setattr(
        _backend, "probe_backend", lambda conn_id, config: probes.append(conn_id) or real_probe(conn_id, config)
    )
    assert FlyteHook("flyte_auto2").backend is Backend.FLYTE2
    assert asyncio.run(FlyteAsyncHook("flyte_auto2").get_backend()) is Backend.FLYTE2
    assert probes == ["flyte_auto2"]
    ok, message = FlyteHook("flyte_auto2").test_connection()
    assert ok, message
    assert "Flyte 2" in message


def test_auto_backend_probes_flyte1(monkeypatch: pytest.MonkeyPatch, sandbox: Any) -> None:
    from airflow_provider_flyte.configuration import Backend
    from airflow_provider_flyte.hooks import _backend

    _backend.forget_backends()
    monkeypatch.setenv("AIRFLOW_CONN_FLYTE_AUTO1", flyte_conn_json(sandbox.endpoint, backend="auto"))
    assert FlyteHook("flyte_auto1").backend is Backend.FLYTE1


def test_flyte2_clients_come_from_the_hooks(monkeypatch: pytest.MonkeyPatch, flyte2_sandbox: Any) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_FLYTE_V2", flyte_conn_json(flyte2_sandbox.grpc_endpoint, backend="flyte2"))
    hook = FlyteHook("flyte_v2")
    assert hook.get_flyte2_client() is hook.get_flyte2_client()
    hook.close()

    async def async_client() -> str:
        client = await FlyteAsyncHook("flyte_v2").get_flyte2_client()
        try:
            return type(client).__name__
        finally:
            await client.close()

    assert asyncio.run(async_client()) == "AsyncFlyte2Client"
