"""Configuration errors that tell the truth: strict booleans and numbers, endpoints, INI '%', secrets never echoed.

Every bad value fails when the PlatformConfig is built, as a FlyteConfigurationException naming the field (or the
environment variable / file key) and the value, except a secret's value, which is never shown.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from airflow_provider_flyte.clients._calls import resolve_config
from airflow_provider_flyte.configuration import _AUTO_KEYS, PlatformConfig
from airflow_provider_flyte.exceptions import FlyteConfigurationException
from airflow_provider_flyte.remote import FlyteRemote

BOOL_FIELDS = ("insecure", "insecure_skip_verify", "allow_insecure_token_endpoint")
SECONDS_FIELDS = ("rpc_timeout", "retry_initial_backoff", "retry_max_backoff", "retry_total_timeout")
SECRET = "p4ss%w0rd%(rest)s-tail"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No FLYTE* variables, a home without ~/.flyte, and a working directory without flytekit.config."""
    for name in list(os.environ):
        if name.startswith("FLYTE"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)


# --- booleans -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", BOOL_FIELDS)
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        *[(True, True), (False, False), ("false", False), ("FALSE", False), ("0", False), ("no", False)],
        *[("off", False), ("true", True), (" True ", True), ("1", True), ("yes", True), ("On", True)],
    ],
)
def test_boolean_fields_take_bools_and_the_usual_spellings(name: str, raw: object, expected: bool) -> None:
    config = PlatformConfig(**{name: raw})
    assert getattr(config, name) is expected


@pytest.mark.parametrize("name", BOOL_FIELDS)
@pytest.mark.parametrize("raw", ["maybe", "", "2", "truee", "n", 1, 0, None, 1.0, [True]])
def test_boolean_fields_refuse_anything_else_naming_field_and_value(name: str, raw: object) -> None:
    with pytest.raises(FlyteConfigurationException) as raised:
        PlatformConfig(**{name: raw})
    assert str(raised.value) == f"{name}={raw!r} is not a boolean; use true or false (or 1/0, yes/no, on/off)"


def test_insecure_false_as_a_string_means_tls_on_every_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert PlatformConfig(insecure="false").insecure is False
    assert PlatformConfig.for_endpoint("flyte.example.com:443", insecure="no").insecure is False
    assert PlatformConfig().with_overrides(insecure="off").insecure is False
    assert resolve_config("flyte.example.com:443", "false").insecure is False  # type: ignore[arg-type]
    assert resolve_config(PlatformConfig(insecure=True), "0").insecure is False  # type: ignore[arg-type]
    with pytest.raises(FlyteConfigurationException, match="insecure='nope'"):
        PlatformConfig.for_endpoint("flyte.example.com:443", insecure="nope")
    assert FlyteRemote.for_endpoint("flyte.example.com:443", insecure="no").config.insecure is False  # type: ignore[arg-type]
    with pytest.raises(FlyteConfigurationException, match="insecure='nah'"):
        FlyteRemote.for_endpoint("flyte.example.com:443", insecure="nah")  # type: ignore[arg-type]
    monkeypatch.setenv("FLYTE_PLATFORM_INSECURE", "false")
    assert PlatformConfig.auto().insecure is False
    monkeypatch.delenv("FLYTE_PLATFORM_INSECURE")
    yaml_file = tmp_path / "config.yaml"
    yaml_file.write_text("admin:\n  insecure: 'false'\n  insecureSkipVerify: 0\n  allowInsecureTokenEndpoint: 'yes'\n")
    from_yaml = PlatformConfig.auto(yaml_file)
    assert (from_yaml.insecure, from_yaml.insecure_skip_verify, from_yaml.allow_insecure_token_endpoint) == (
        False,
        False,
        True,
    )
    ini_file = tmp_path / "flytekit.config"
    ini_file.write_text("[platform]\ninsecure = off\n[credentials]\nallow_insecure_token_endpoint = on\n")
    from_ini = PlatformConfig.auto(ini_file)
    assert (from_ini.insecure, from_ini.allow_insecure_token_endpoint) == (False, True)


def test_boolean_keys_in_files_and_environment_are_strict(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FLYTE_CREDENTIALS_ALLOW_INSECURE_TOKEN_ENDPOINT", "y")
    with pytest.raises(FlyteConfigurationException) as raised:
        PlatformConfig.auto()
    assert str(raised.value) == (
        "FLYTE_CREDENTIALS_ALLOW_INSECURE_TOKEN_ENDPOINT='y' is not a boolean; use true or false (or 1/0, yes/no, "
        "on/off)"
    )
    monkeypatch.delenv("FLYTE_CREDENTIALS_ALLOW_INSECURE_TOKEN_ENDPOINT")
    ini_file = tmp_path / "flytekit.config"
    ini_file.write_text("[platform]\ninsecure_skip_verify = sure\n")
    with pytest.raises(FlyteConfigurationException, match=r"\[platform\] insecure_skip_verify in .*='sure'"):
        PlatformConfig.auto(ini_file)
    yaml_file = tmp_path / "config.yaml"
    yaml_file.write_text("admin:\n  insecure: 2\n")
    with pytest.raises(FlyteConfigurationException, match=r"admin\.insecure in .*config\.yaml='2' is not a boolean"):
        PlatformConfig.auto(yaml_file)


# --- numbers ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SECONDS_FIELDS)
@pytest.mark.parametrize("raw", [math.nan, math.inf, -math.inf, -1.0, 0, True, "30", None])
def test_durations_must_be_positive_finite_numbers(name: str, raw: object) -> None:
    with pytest.raises(FlyteConfigurationException) as raised:
        PlatformConfig(**{name: raw})
    assert str(raised.value) == f"{name}={raw!r} must be a positive, finite number of seconds"


@pytest.mark.parametrize("raw", [-1, True, 1.5, "3", math.nan, None])
def test_retries_must_be_a_non_negative_integer(raw: object) -> None:
    with pytest.raises(FlyteConfigurationException) as raised:
        PlatformConfig(rpc_retries=raw)  # type: ignore[arg-type]
    assert str(raised.value) == f"rpc_retries={raw!r} must be a non-negative integer"


def test_valid_numbers_are_kept() -> None:
    config = PlatformConfig(rpc_timeout=1, retry_initial_backoff=0.001, rpc_retries=0, retry_total_timeout=1e6)
    assert (config.rpc_timeout, config.retry_initial_backoff, config.rpc_retries) == (1, 0.001, 0)


# --- endpoints ----------------------------------------------------------------------------------------------------

EXAMPLE = "; set endpoint to host:port of Flyte Admin's gRPC API, e.g. flyte.example.com:443"


@pytest.mark.parametrize(
    ("endpoint", "message"),
    [
        ("localhost:abc", "endpoint='localhost:abc' has a non-numeric port 'abc'"),
        ("localhost:", "endpoint='localhost:' has a non-numeric port ''"),
        (":8089", "endpoint=':8089' has an empty host"),
        ("localhost:70000", "endpoint='localhost:70000' has port 70000, outside 1-65535"),
        ("localhost:0", "endpoint='localhost:0' has port 0, outside 1-65535"),
        ("localhost:-1", "endpoint='localhost:-1' has a non-numeric port '-1'"),
        ("local host:80", "endpoint='local host:80' contains blanks"),
        ("localhost:80 ", None),  # surrounding blanks are trimmed: valid
        ("https://flyte.example.com", "endpoint='https://flyte.example.com' starts with a URL scheme; give host:port "),
        ("::1:8089", "endpoint='::1:8089' looks like an IPv6 address; write it in brackets, e.g. [::1]:8089"),
        ("[zz]:80", "endpoint='[zz]:80' has 'zz' in brackets, which is not an IPv6 address"),
        ("[::1:80", "endpoint='[::1:80' has an unclosed or misplaced ']' around its IPv6 address"),
        ("a/b:80", "endpoint='a/b:80' has an invalid host 'a/b': use letters, digits"),
        ("", "endpoint is empty"),
        ("   ", "endpoint is empty"),
    ],
)
def test_malformed_endpoints_are_refused_when_the_config_is_built(endpoint: str, message: str | None) -> None:
    if message is None:
        assert PlatformConfig(endpoint=endpoint).endpoint == endpoint.strip()
        return
    with pytest.raises(FlyteConfigurationException) as raised:
        PlatformConfig(endpoint=endpoint)
    assert str(raised.value).startswith(message)
    assert str(raised.value).endswith(EXAMPLE)


@pytest.mark.parametrize(
    ("endpoint", "kept"),
    [
        ("dns:///flyte.example.com:443", "flyte.example.com:443"),
        ("flyte.example.com", "flyte.example.com"),
        ("[::1]:8089", "[::1]:8089"),
        ("flyteadmin.flyte.svc.cluster.local:81", "flyteadmin.flyte.svc.cluster.local:81"),
        ("flyte_admin:65535", "flyte_admin:65535"),
        ("unix:/tmp/flyte.sock", "unix:/tmp/flyte.sock"),
    ],
)
def test_well_formed_endpoints_are_kept(endpoint: str, kept: str) -> None:
    assert PlatformConfig(endpoint=endpoint).endpoint == kept


def test_a_malformed_endpoint_from_the_environment_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLYTE_PLATFORM_URL", "localhost:abc")
    with pytest.raises(FlyteConfigurationException) as raised:
        PlatformConfig.auto()
    assert str(raised.value) == "FLYTE_PLATFORM_URL: endpoint='localhost:abc' has a non-numeric port 'abc'" + EXAMPLE


# --- INI interpolation and secrets --------------------------------------------------------------------------------


def test_percent_in_an_ini_value_is_kept_as_written(tmp_path: Path) -> None:
    path = tmp_path / "flytekit.config"
    path.write_text(f"[platform]\nurl = ini:3\n[credentials]\nclient_id = cid\nclient_secret = {SECRET}\n")
    config = PlatformConfig.auto(path)
    assert config.resolve_client_secret() == SECRET
    assert config.client_id == "cid"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"client_secret = {SECRET}\n", "line 1 comes before any [section] header"),
        (f"[credentials]\nclient_id = a\n{SECRET}\n", "line(s) 3 are neither [section] headers nor 'key = value'"),
        (f"[credentials]\nclient_secret = {SECRET}\nclient_secret = {SECRET}\n", "key 'client_secret' appears twice"),
    ],
)
def test_ini_parse_errors_name_lines_never_the_secret(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "flytekit.config"
    path.write_text(text)
    with pytest.raises(FlyteConfigurationException) as raised:
        PlatformConfig.auto(path)
    assert f"config file '{path}' is not a readable INI file: {message}" in str(raised.value)
    assert "p4ss" not in str(raised.value)


def test_yaml_parse_errors_never_quote_the_line(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(f"admin:\n  endpoint: localhost:1\nstorage:\n  secret-key: [{SECRET}\n")
    with pytest.raises(FlyteConfigurationException) as raised:
        PlatformConfig.auto(path)
    assert str(raised.value).startswith(f"config file '{path}' is not readable YAML: ")
    assert "at line" in str(raised.value)
    assert "p4ss" not in str(raised.value)


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("secret-key: *p4ssw0rd", "found undefined alias '...' at line 2, column 15"),
        ("secret-key: !p4ssw0rd x", "could not determine a constructor for the tag '...' at line 2, column 15"),
        ("secret-key: %p4ssw0rd", "found character '%' that cannot start any token at line 2, column 15"),
    ],
)
def test_yaml_errors_on_an_unquoted_secret_do_not_name_it(tmp_path: Path, line: str, problem: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(f"storage:\n  {line}\n")
    with pytest.raises(FlyteConfigurationException) as raised:
        PlatformConfig.auto(path)
    assert str(raised.value) == f"config file '{path}' is not readable YAML: {problem}"


def test_a_secret_of_the_wrong_type_is_named_not_shown(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from airflow_provider_flyte.configuration import _convert

    (secret_key,) = [key for key in _AUTO_KEYS if key.field == "client_credentials_secret"]
    with pytest.raises(FlyteConfigurationException) as raised:
        _convert(secret_key, {"nested": SECRET}, "client_secret in f.yaml")
    assert str(raised.value) == "client_secret in f.yaml='***' must be a string"


def test_files_that_cannot_be_read_are_configuration_errors(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    binary = tmp_path / "flytekit.config"
    binary.write_bytes(b"[platform]\nurl = \xff\xfe\n")
    with pytest.raises(FlyteConfigurationException, match=r"cannot be read: not UTF-8 text \(byte 17\)"):
        PlatformConfig.auto(binary)
    with pytest.raises(FlyteConfigurationException, match="does not exist"):
        PlatformConfig.auto("~no-such-user-here/config.yaml")
    monkeypatch.setenv("FLYTECTL_CONFIG", "x" * 5000)  # too long for a path: ignored like a missing file
    monkeypatch.setenv("FLYTE_CREDENTIALS_CLIENT_SECRET_LOCATION", "y" * 5000)
    assert PlatformConfig.auto().client_credentials_secret_file == "y" * 5000


# --- property: auto() raises FlyteConfigurationException or succeeds, and never shows the secret -------------------

# The secret is the only generated value holding private-use characters: an error text holding one leaks it.
_PRIVATE_USE = st.characters(min_codepoint=0xE000, max_codepoint=0xE0FF)
SECRETS = st.builds(
    lambda marked, tail: f"%{marked}{tail}",
    st.text(_PRIVATE_USE, min_size=1, max_size=12),
    st.text(st.sampled_from("%()sd{}$=:;#[]"), max_size=6),
)
_PLAIN = st.characters(exclude_categories=("Cs", "Co"))
_MEANINGFUL = st.sampled_from(
    [
        *["true", "False", "yes", "0", "maybe", "", " ", "localhost:30080", "localhost:abc", "[::1]:80", ":1", "a b:1"],
        *["dns:///x:443", "https://x", "ClientSecret", "Pkce", "none", "kerberos", "a,b", "%(x)s", "100%"],
        "~no-such-user/x",
    ]
)
ENV_VALUES = st.one_of(_MEANINGFUL, st.text(_PLAIN.filter(lambda char: char != "\x00"), max_size=30))
FILE_VALUES = st.one_of(_MEANINGFUL, st.text(_PLAIN, max_size=30))
ENV_NAMES = sorted({key.env for key in _AUTO_KEYS} | {"FLYTECTL_CONFIG"})
INI_OPTIONS = sorted({key.ini for key in _AUTO_KEYS})
YAML_PATHS = sorted({key.yaml for key in _AUTO_KEYS if key.yaml})
YAML_LEAVES = st.recursive(
    st.one_of(FILE_VALUES, st.integers(), st.floats(), st.booleans(), st.none()),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["a", "b", "1"]), inner, max_size=3),
    max_leaves=5,
)


def _leaks(error: BaseException) -> bool:
    text = f"{error} {error!r} {error.args!r}"
    return any(0xE000 <= ord(char) <= 0xE0FF for char in text)


def _auto_is_total(config_file: Path | None, secret: str, environment: dict[str, str]) -> None:
    """auto() with ``environment`` set: a config, or a FlyteConfigurationException that does not show ``secret``."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("FLYTE"):
                patch.delenv(name)
        for name, value in environment.items():
            patch.setenv(name, value)
        try:
            outcome: PlatformConfig | FlyteConfigurationException = PlatformConfig.auto(config_file)
        except FlyteConfigurationException as error:
            outcome = error
    if isinstance(outcome, FlyteConfigurationException):
        assert not _leaks(outcome), f"the secret leaks into: {outcome}"
    else:
        assert secret not in f"{outcome!r} {outcome}"


@given(environment=st.dictionaries(st.sampled_from(ENV_NAMES), ENV_VALUES), secret=SECRETS, indirect=st.booleans())
@example(environment={"FLYTECTL_CONFIG": "~no-such-user/x"}, secret="%\ue000", indirect=False)
def test_auto_from_any_environment_raises_only_configuration_errors(
    environment: dict[str, str], secret: str, indirect: bool
) -> None:
    if indirect:  # the secret reached through client_secret_env_var
        environment = {**environment, "FLYTE_CREDENTIALS_CLIENT_SECRET_ENV_VAR": "MY_SECRET", "MY_SECRET": secret}
    else:
        environment = {**environment, "FLYTE_CREDENTIALS_CLIENT_SECRET": secret}
    _auto_is_total(None, secret, environment)


@given(
    settings=st.dictionaries(st.sampled_from(YAML_PATHS), YAML_LEAVES),
    secret=SECRETS,
    lead=st.sampled_from(["", "*", "&", "!", "@", "`", "|", "? ", "- "]),
    quoted=st.booleans(),
    junk=st.one_of(st.just(""), st.text(_PLAIN, max_size=20), st.sampled_from(["[", "\t- x", ": :", "&a *b", "%"])),
)
def test_auto_from_any_yaml_raises_only_configuration_errors(
    tmp_path_factory: pytest.TempPathFactory, settings: dict[str, Any], secret: str, lead: str, quoted: bool, junk: str
) -> None:
    document: dict[str, Any] = {}
    for dotted, value in settings.items():
        section, key = dotted.split(".")
        document.setdefault(section, {})[key] = value
    # flytectl files hold storage credentials too; written by hand, so a syntax error can sit on the secret's line.
    secret = lead + secret  # YAML reads a leading '*' as an alias, '&' as an anchor, '!' as a tag...
    value = f"'{secret}'" if quoted else secret
    text = f"{yaml.safe_dump(document, allow_unicode=True)}storage:\n  secret-key: {value}{junk}\n"
    path = tmp_path_factory.mktemp("yaml") / "config.yaml"
    path.write_text(text, encoding="utf-8")
    _auto_is_total(path, secret, {})


@given(
    lines=st.lists(
        st.one_of(
            st.tuples(st.sampled_from(INI_OPTIONS), FILE_VALUES).map(
                lambda item: (item[0][0], f"{item[0][1]} = {item[1]}")
            ),
            st.tuples(st.sampled_from(["platform", "credentials", "junk"]), st.text(_PLAIN, max_size=20)),
        ),
        max_size=12,
    ),
    secret=SECRETS,
)
def test_auto_from_any_ini_raises_only_configuration_errors(
    tmp_path_factory: pytest.TempPathFactory, lines: list[tuple[str, str]], secret: str
) -> None:
    sections: dict[str, list[str]] = {"credentials": [f"client_secret = {secret}"]}
    for section, line in lines:
        sections.setdefault(section, []).append(line)
    text = "".join(f"[{name}]\n" + "".join(f"{line}\n" for line in body) for name, body in sections.items())
    path = tmp_path_factory.mktemp("ini") / "flytekit.config"
    path.write_text(text, encoding="utf-8")
    _auto_is_total(path, secret, {})
