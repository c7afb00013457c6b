"""Strict parsing of configuration values, with errors that name the setting, show the value and say the fix.

Shared by :class:`~airflow_provider_flyte.configuration.PlatformConfig` (constructor, ``auto()`` from the environment
and config files) and the channel code. Nothing here imports grpc, protobuf or flyteidl. Secret values are never
shown: callers pass ``secret=True`` and the message names the key only.
"""

from __future__ import annotations

import configparser
import ipaddress
import math
import re
import reprlib
from typing import Any

from airflow_provider_flyte.exceptions import FlyteConfigurationException

TRUE_SPELLINGS = frozenset({"true", "1", "yes", "on"})
FALSE_SPELLINGS = frozenset({"false", "0", "no", "off"})

_ENDPOINT_EXAMPLE = "set endpoint to host:port of Flyte Admin's gRPC API, e.g. flyte.example.com:443"
_HOST_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_UNIX_TARGETS = ("unix:", "unix-abstract:")
_MAX_PROBLEM_CHARS = 120
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")

_REPR = reprlib.Repr()
_REPR.maxstring = 200
_REPR.maxother = 200


def shown(value: Any, *, secret: bool = False) -> str:
    """A bounded ``repr`` of ``value`` for an error message; ``'***'`` for secrets."""
    return "'***'" if secret else _REPR.repr(value)


def parse_bool(value: Any, key: str, *, secret: bool = False) -> bool:
    """Return ``value`` as a bool: real bools, or the strings true/false, 1/0, yes/no, on/off (any case).

    Args:
        value: The raw value.
        key: The setting's name, as the user wrote it (field, environment variable or file key).
        secret: Hide the value in the error message.

    Raises:
        FlyteConfigurationException: naming ``key`` and the value for anything else (``"maybe"``, ``2``, ``None``).
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in TRUE_SPELLINGS:
            return True
        if text in FALSE_SPELLINGS:
            return False
    raise FlyteConfigurationException(
        f"{key}={shown(value, secret=secret)} is not a boolean; use true or false (or 1/0, yes/no, on/off)"
    )


def check_seconds(value: Any, key: str) -> float | int:
    """Return ``value`` when it is a positive, finite number of seconds (not a bool).

    Raises:
        FlyteConfigurationException: naming ``key`` and the value (NaN, infinity, zero, negative, bool, text...).
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise FlyteConfigurationException(f"{key}={shown(value)} must be a positive, finite number of seconds")
    return value


def check_count(value: Any, key: str) -> int:
    """Return ``value`` when it is a non-negative integer (not a bool).

    Raises:
        FlyteConfigurationException: naming ``key`` and the value.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise FlyteConfigurationException(f"{key}={shown(value)} must be a non-negative integer")
    return value


def normalize_endpoint(value: Any) -> str:
    """Return the endpoint without surrounding blanks and ``dns:///``, after checking it is ``host[:port]``.

    ``unix:`` targets are passed through (only checked for blanks).

    Raises:
        FlyteConfigurationException: naming ``endpoint``, the value and the expected form.
    """
    if not isinstance(value, str):
        raise FlyteConfigurationException(f"endpoint={shown(value)} must be a string; {_ENDPOINT_EXAMPLE}")
    endpoint = value.strip()
    if endpoint.startswith("dns:///"):
        endpoint = endpoint[len("dns:///") :]
    if not endpoint:
        raise FlyteConfigurationException(f"endpoint is empty; {_ENDPOINT_EXAMPLE}")
    if any(char.isspace() for char in endpoint):
        raise FlyteConfigurationException(f"endpoint={shown(value)} contains blanks; {_ENDPOINT_EXAMPLE}")
    if endpoint.startswith(_UNIX_TARGETS):
        return endpoint
    split_endpoint(endpoint)
    return endpoint


def split_endpoint(endpoint: str) -> tuple[str, int]:
    """Split ``host:port``, ``host`` (port 443) or ``[v6]:port`` into host and port, checking both.

    Raises:
        FlyteConfigurationException: naming ``endpoint`` and what is wrong with it: a URL scheme, an empty host, a
            malformed host name, an IPv6 address without brackets, a non-numeric port or one outside 1-65535.
    """
    if "://" in endpoint:
        raise _bad_endpoint(endpoint, "starts with a URL scheme; give host:port only, without http:// or grpc://")
    if endpoint.startswith("["):
        host, closing, rest = endpoint[1:].partition("]")
        if not closing or (rest and not rest.startswith(":")):
            raise _bad_endpoint(endpoint, "has an unclosed or misplaced ']' around its IPv6 address")
        _check_ipv6(endpoint, host)
        return host, _port(endpoint, rest[1:]) if rest else 443
    host, sep, port = endpoint.rpartition(":")
    if not sep:
        host, port = endpoint, ""
    if ":" in host:
        raise _bad_endpoint(endpoint, "looks like an IPv6 address; write it in brackets, e.g. [::1]:8089")
    if not host:
        raise _bad_endpoint(endpoint, "has an empty host")
    if not _HOST_NAME.fullmatch(host):
        raise _bad_endpoint(
            endpoint, f"has an invalid host {shown(host)}: use letters, digits, '.', '-' and '_' (IDNA names in xn--)"
        )
    return host, _port(endpoint, port) if sep else 443


def _check_ipv6(endpoint: str, host: str) -> None:
    try:
        ipaddress.IPv6Address(host)
    except ValueError:
        raise _bad_endpoint(endpoint, f"has {shown(host)} in brackets, which is not an IPv6 address") from None


def _port(endpoint: str, text: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise _bad_endpoint(endpoint, f"has a non-numeric port {shown(text)}")
    number = int(text)
    if not 0 < number < 65536:
        raise _bad_endpoint(endpoint, f"has port {number}, outside 1-65535")
    return number


def _bad_endpoint(endpoint: str, problem: str) -> FlyteConfigurationException:
    return FlyteConfigurationException(f"endpoint={shown(endpoint)} {problem}; {_ENDPOINT_EXAMPLE}")


def ini_error_text(error: configparser.Error) -> str:
    """Describe an INI parsing error by line numbers and key names only: the offending lines may hold secrets."""
    if isinstance(error, configparser.MissingSectionHeaderError):
        return f"line {error.lineno} comes before any [section] header"
    if isinstance(error, configparser.ParsingError):
        lines = ", ".join(str(lineno) for lineno, _ in error.errors)
        return f"line(s) {lines} are neither [section] headers nor 'key = value' settings"
    if isinstance(error, configparser.DuplicateOptionError):
        return f"key {error.option!r} appears twice in section [{error.section}] (line {error.lineno})"
    if isinstance(error, configparser.DuplicateSectionError):
        return f"section [{error.section}] appears twice (line {error.lineno})"
    return type(error).__name__


def yaml_error_text(error: Exception) -> str:
    """Describe a YAML loading error by its problem and position, without the snippet of the offending line.

    Quoted names in the problem (an alias, anchor or tag: a value written unquoted, such as a secret starting with
    ``*``) are replaced by ``'...'``; single quoted characters (``found character '%'``) are kept.
    """
    problem = str(getattr(error, "problem", None) or type(error).__name__)
    problem = _QUOTED.sub(lambda quoted: quoted.group(0) if len(quoted.group(0)) <= 4 else "'...'", problem)
    problem = problem[:_MAX_PROBLEM_CHARS]
    mark = getattr(error, "problem_mark", None)
    if mark is not None:
        return f"{problem} at line {mark.line + 1}, column {mark.column + 1}"
    position = getattr(error, "position", None)
    if position is not None:  # yaml.reader.ReaderError: a character YAML does not accept
        return f"a character YAML does not accept at offset {position}"
    return problem
