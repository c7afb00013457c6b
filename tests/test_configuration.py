"""PlatformConfig: flytekit-compatible auto() from environment and files, secret resolution, secret hygiene."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_provider_flyte.configuration import AuthMode, PlatformConfig
from airflow_provider_flyte.exceptions import FlyteConfigurationException

FLYTECTL_YAML = """\
admin:
  endpoint: dns:///flyte.example.com:443
  insecure: false
  insecureSkipVerify: true
  caCertFilePath: /etc/ssl/flyte-ca.pem
  authType: Pkce
  clientId: my-client
  scopes:
    - all
    - offline
  audience: flyte-api
  command: ["gcloud", "auth", "print-access-token"]
  proxyCommand: ["iap-token"]
  httpProxyURL: http://proxy:3128
console:
  endpoint: https://console.example.com
"""


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No FLYTE_* variables, a home without ~/.flyte, and a working directory without flytekit.config."""
    import os

    for name in list(os.environ):
        if name.startswith("FLYTE") or name == "CI":
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)


def test_auto_without_anything_is_the_default_config() -> None:
    assert PlatformConfig.auto() == PlatformConfig()


def test_auto_reads_flytekit_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLYTE_PLATFORM_URL", "dns:///admin.example.com:81")
    monkeypatch.setenv("FLYTE_PLATFORM_INSECURE", "True")
    monkeypatch.setenv("FLYTE_PLATFORM_INSECURE_SKIP_VERIFY", "0")
    monkeypatch.setenv("FLYTE_PLATFORM_CA_CERT_FILE_PATH", "/ca.pem")
    monkeypatch.setenv("FLYTE_PLATFORM_CONSOLE_ENDPOINT", "https://console")
    monkeypatch.setenv("FLYTE_PLATFORM_HTTP_PROXY_URL", "http://proxy:1")
    monkeypatch.setenv("FLYTE_CREDENTIALS_CLIENT_ID", "cid")
    monkeypatch.setenv("FLYTE_CREDENTIALS_AUTH_MODE", "DeviceFlow")
    monkeypatch.setenv("FLYTE_CREDENTIALS_SCOPES", "all,offline")
    monkeypatch.setenv("FLYTE_CREDENTIALS_AUDIENCE", "aud")
    monkeypatch.setenv("FLYTE_CREDENTIALS_COMMAND", "print-token,--quiet")
    monkeypatch.setenv("FLYTE_CREDENTIALS_PROXY_COMMAND", "proxy-token")
    config = PlatformConfig.auto()
    assert config.endpoint == "admin.example.com:81"
    assert config.insecure is True
    assert config.insecure_skip_verify is False
    assert config.ca_cert_file_path == "/ca.pem"
    assert config.console_endpoint == "https://console"
    assert config.http_proxy_url == "http://proxy:1"
    assert config.client_id == "cid"
    assert config.auth_mode is AuthMode.DEVICE_FLOW
    assert config.scopes == ("all", "offline")
    assert config.audience == "aud"
    assert config.command == ("print-token", "--quiet")
    assert config.proxy_command == ("proxy-token",)


def test_auto_reads_a_flytectl_yaml_file(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(FLYTECTL_YAML)
    config = PlatformConfig.auto(path)
    assert config.endpoint == "flyte.example.com:443"
    assert config.insecure is False
    assert config.insecure_skip_verify is True
    assert config.ca_cert_file_path == "/etc/ssl/flyte-ca.pem"
    assert config.auth_mode is AuthMode.PKCE
    assert config.client_id == "my-client"
    assert config.scopes == ("all", "offline")
    assert config.audience == "flyte-api"
    assert config.command == ("gcloud", "auth", "print-access-token")
    assert config.proxy_command == ("iap-token",)
    assert config.http_proxy_url == "http://proxy:3128"
    assert config.console_endpoint == "https://console.example.com"


def test_default_file_locations_and_flytectl_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    home_config = Path.home() / ".flyte" / "config.yaml"
    home_config.parent.mkdir()
    home_config.write_text("admin:\n  endpoint: home:1\n")
    assert PlatformConfig.auto().endpoint == "home:1"
    other = tmp_path / "other.yaml"
    other.write_text("admin:\n  endpoint: other:2\n")
    monkeypatch.setenv("FLYTECTL_CONFIG", str(other))
    assert PlatformConfig.auto().endpoint == "other:2"
    monkeypatch.setenv("FLYTECTL_CONFIG", str(tmp_path / "missing.yaml"))
    assert PlatformConfig.auto().endpoint == "home:1"  # a missing FLYTECTL_CONFIG is ignored, as flytekit does


def test_auto_reads_a_flytekit_ini_file(tmp_path: Path) -> None:
    path = tmp_path / "flytekit.config"
    path.write_text("[platform]\nurl = ini:3\ninsecure = true\n[credentials]\nclient_id = ini-client\nscopes = a,b\n")
    config = PlatformConfig.auto(str(path))
    assert (config.endpoint, config.insecure, config.client_id, config.scopes) == (
        "ini:3",
        True,
        "ini-client",
        ("a", "b"),
    )


def test_environment_beats_the_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(FLYTECTL_YAML)
    monkeypatch.setenv("FLYTE_PLATFORM_URL", "env:9")
    monkeypatch.setenv("FLYTE_PLATFORM_INSECURE_SKIP_VERIFY", "false")
    config = PlatformConfig.auto(path)
    assert config.endpoint == "env:9"
    assert config.insecure_skip_verify is False
    assert config.client_id == "my-client"  # unset in the environment: still from the file


def test_bad_boolean_names_the_key_and_value(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FLYTE_PLATFORM_INSECURE", "maybe")
    with pytest.raises(FlyteConfigurationException, match="FLYTE_PLATFORM_INSECURE='maybe'"):
        PlatformConfig.auto()
    monkeypatch.delenv("FLYTE_PLATFORM_INSECURE")
    path = tmp_path / "config.yaml"
    path.write_text("admin:\n  insecure: sometimes\n")
    with pytest.raises(FlyteConfigurationException, match=r"admin\.insecure in .*'sometimes'"):
        PlatformConfig.auto(path)


def test_bad_auth_mode_and_bad_files_are_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FLYTE_CREDENTIALS_AUTH_MODE", "kerberos")
    with pytest.raises(FlyteConfigurationException, match="FLYTE_CREDENTIALS_AUTH_MODE='kerberos'"):
        PlatformConfig.auto()
    monkeypatch.delenv("FLYTE_CREDENTIALS_AUTH_MODE")
    with pytest.raises(FlyteConfigurationException, match="does not exist"):
        PlatformConfig.auto(tmp_path / "absent.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("admin: [unclosed\n")
    with pytest.raises(FlyteConfigurationException, match=r"broken\.yaml"):
        PlatformConfig.auto(broken)
    listy = tmp_path / "list.yaml"
    listy.write_text("- a\n- b\n")
    with pytest.raises(FlyteConfigurationException, match="mapping"):
        PlatformConfig.auto(listy)
    scopes = tmp_path / "scopes.yaml"
    scopes.write_text("admin:\n  scopes: {a: 1}\n")
    with pytest.raises(FlyteConfigurationException, match=r"admin\.scopes"):
        PlatformConfig.auto(scopes)


def test_secret_location_switches_to_client_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("from-file\n")
    monkeypatch.setenv("FLYTE_CREDENTIALS_AUTH_MODE", "Pkce")
    monkeypatch.setenv("FLYTE_CREDENTIALS_CLIENT_SECRET_LOCATION", str(secret))
    config = PlatformConfig.auto()
    assert config.auth_mode is AuthMode.CLIENT_CREDENTIALS
    assert config.client_credentials_secret_file == str(secret)
    assert config.resolve_client_secret() == "from-file"


def test_secret_env_var_switches_to_client_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLYTE_CREDENTIALS_CLIENT_SECRET_ENV_VAR", "MY_SECRET")
    assert PlatformConfig.auto().auth_mode is AuthMode.NONE  # named but not set: nothing found
    monkeypatch.setenv("MY_SECRET", "from-env")
    config = PlatformConfig.auto()
    assert config.auth_mode is AuthMode.CLIENT_CREDENTIALS
    assert config.resolve_client_secret() == "from-env"


def test_direct_secret_sets_client_credentials_only_without_an_explicit_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLYTE_CREDENTIALS_CLIENT_SECRET", "direct")
    config = PlatformConfig.auto()
    assert config.auth_mode is AuthMode.CLIENT_CREDENTIALS
    assert config.resolve_client_secret() == "direct"
    monkeypatch.setenv("FLYTE_CREDENTIALS_AUTH_MODE", "ExternalCommand")
    assert PlatformConfig.auto().auth_mode is AuthMode.EXTERNAL_COMMAND


def test_resolve_client_secret_names_the_missing_source(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(FlyteConfigurationException, match="no client secret"):
        PlatformConfig().resolve_client_secret()
    missing = tmp_path / "missing"
    with pytest.raises(FlyteConfigurationException, match=r"client_credentials_secret_file=.*missing"):
        PlatformConfig(client_credentials_secret_file=str(missing)).resolve_client_secret()
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(FlyteConfigurationException, match="is empty"):
        PlatformConfig(client_credentials_secret_file=str(empty)).resolve_client_secret()
    monkeypatch.delenv("UNSET_SECRET_VAR", raising=False)
    with pytest.raises(FlyteConfigurationException, match="UNSET_SECRET_VAR"):
        PlatformConfig(client_credentials_secret_env_var="UNSET_SECRET_VAR").resolve_client_secret()
    assert PlatformConfig(client_credentials_secret="v").resolve_client_secret() == "v"


def test_secrets_are_hidden_from_repr_and_str() -> None:
    config = PlatformConfig(client_credentials_secret="hunter2-secret", static_token="tok-hidden")
    for text in (repr(config), str(config)):
        assert "hunter2-secret" not in text
        assert "tok-hidden" not in text
    assert "endpoint='localhost:30080'" in repr(config)
