from __future__ import annotations

import re

import grpc
import pytest

from airflow_provider_flyte import exceptions
from airflow_provider_flyte.clients.transport_errors import permanent_transport_error
from airflow_provider_flyte.exceptions import (
    FlyteAssertion,
    FlyteAuthenticationException,
    FlyteConfigurationException,
    FlyteEntityAlreadyExistsException,
    FlyteEntityNotExistException,
    FlyteException,
    FlyteFailedPreconditionException,
    FlyteInvalidInputException,
    FlyteNotImplementedException,
    FlyteOutOfRangeException,
    FlytePermissionDeniedException,
    FlyteResourceExhaustedException,
    FlyteSystemException,
    FlyteSystemUnavailableException,
    FlyteTimeout,
    FlyteTransportConfigurationException,
    FlyteUserException,
    exception_class_for,
    from_grpc_error,
)


class _FakeCallError(grpc.RpcError):
    """A stand-in for a failed grpc.Call: only the two accessors from_grpc_error reads."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        self._code = code
        self._details = details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (grpc.StatusCode.ALREADY_EXISTS, FlyteEntityAlreadyExistsException),
        (grpc.StatusCode.NOT_FOUND, FlyteEntityNotExistException),
        (grpc.StatusCode.INVALID_ARGUMENT, FlyteInvalidInputException),
        (grpc.StatusCode.OUT_OF_RANGE, FlyteOutOfRangeException),
        (grpc.StatusCode.FAILED_PRECONDITION, FlyteFailedPreconditionException),
        (grpc.StatusCode.UNAUTHENTICATED, FlyteAuthenticationException),
        (grpc.StatusCode.PERMISSION_DENIED, FlytePermissionDeniedException),
        (grpc.StatusCode.UNIMPLEMENTED, FlyteNotImplementedException),
        (grpc.StatusCode.UNAVAILABLE, FlyteSystemUnavailableException),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, FlyteResourceExhaustedException),
        (grpc.StatusCode.DEADLINE_EXCEEDED, FlyteTimeout),
        (grpc.StatusCode.INTERNAL, FlyteSystemException),
        (grpc.StatusCode.UNKNOWN, FlyteSystemException),
    ],
)
def test_one_mapping_from_status_code(code: grpc.StatusCode, cls: type) -> None:
    error = from_grpc_error(_FakeCallError(code, "server says no"), "/flyteidl.service.AdminService/GetExecution")
    assert type(error) is cls
    assert error.code == code.name
    assert error.rpc == "flyteidl.service.AdminService/GetExecution"
    assert error.server_message == "server says no"
    assert str(error) == f"{code.name} in flyteidl.service.AdminService/GetExecution: server says no"


def test_flytekit_compatible_hierarchy() -> None:
    # Code written against flytekit catches these as AssertionError.
    for cls in (
        FlyteEntityAlreadyExistsException,
        FlyteEntityNotExistException,
        FlyteTimeout,
        FlyteAuthenticationException,
    ):
        assert issubclass(cls, AssertionError)
    assert issubclass(FlyteSystemUnavailableException, FlyteSystemException)


def test_message_falls_back_to_code_when_server_sent_none() -> None:
    error = from_grpc_error(_FakeCallError(grpc.StatusCode.UNAVAILABLE, ""))
    assert error.message == "unavailable"
    assert error.rpc is None


# ---------------------------------------------------------------------------------------------------- flytekit parity


def flytekit_class_for(code: grpc.StatusCode) -> type[BaseException]:
    """The class flytekit's client raises for a failed call with ``code`` (its own mapping function, run)."""
    wrap = pytest.importorskip("flytekit.clients.grpc_utils.wrap_exception_interceptor")
    try:
        wrap.RetryExceptionWrapperInterceptor._raise_if_exc(None, _FakeCallError(code, "server says no"))
    except BaseException as raised:
        return type(raised)
    raise AssertionError(f"flytekit raised nothing for {code.name}")


def equivalents() -> dict[type, type]:
    """flytekit's exception classes (and the builtins they derive from) -> ours."""
    base = pytest.importorskip("flytekit.exceptions.base")
    system = pytest.importorskip("flytekit.exceptions.system")
    user = pytest.importorskip("flytekit.exceptions.user")
    return {
        base.FlyteException: FlyteException,
        system.FlyteSystemException: FlyteSystemException,
        system.FlyteSystemUnavailableException: FlyteSystemUnavailableException,
        system.FlyteNotImplementedException: FlyteNotImplementedException,
        user.FlyteUserException: FlyteUserException,
        user.FlyteAssertion: FlyteAssertion,
        user.FlyteEntityAlreadyExistsException: FlyteEntityAlreadyExistsException,
        user.FlyteEntityNotExistException: FlyteEntityNotExistException,
        user.FlyteAuthenticationException: FlyteAuthenticationException,
        user.FlyteInvalidInputException: FlyteInvalidInputException,
        user.FlyteTimeout: FlyteTimeout,
        AssertionError: AssertionError,
        Exception: Exception,
        BaseException: BaseException,
        object: object,
    }


def not_mirrored() -> set[type]:
    """flytekit classes with no counterpart here: a marker for task errors worth a retry, not a client error."""
    base = pytest.importorskip("flytekit.exceptions.base")
    return {base.FlyteRecoverableException}


@pytest.mark.parametrize("code", list(grpc.StatusCode), ids=lambda code: code.name)
def test_every_status_code_is_caught_wherever_flytekits_exception_would_be(code: grpc.StatusCode) -> None:
    theirs = flytekit_class_for(code)
    ours = from_grpc_error(_FakeCallError(code, "server says no"), "/flyteidl.service.AdminService/GetExecution")
    mapping, skipped = equivalents(), not_mirrored()
    for flytekit_class in theirs.__mro__:
        if flytekit_class in skipped:
            continue
        assert flytekit_class in mapping, f"{flytekit_class} (a base of {theirs.__name__}) has no counterpart here"
        assert isinstance(ours, mapping[flytekit_class]), (
            f"{code.name}: flytekit raises {theirs.__name__}, caught by except {flytekit_class.__name__}; ours is a "
            f"{type(ours).__name__}, not a {mapping[flytekit_class].__name__}"
        )


@pytest.mark.parametrize(
    ("code", "precise", "flytekit_name"),
    [
        (grpc.StatusCode.FAILED_PRECONDITION, FlyteFailedPreconditionException, "FlyteSystemException"),
        (grpc.StatusCode.PERMISSION_DENIED, FlyteAuthenticationException, "FlyteSystemException"),
        (grpc.StatusCode.OUT_OF_RANGE, FlyteInvalidInputException, "FlyteSystemException"),
    ],
)
def test_precise_classes_are_kept_and_flytekit_style_catches_work(
    code: grpc.StatusCode, precise: type, flytekit_name: str
) -> None:
    assert flytekit_class_for(code).__name__ == flytekit_name
    error = from_grpc_error(_FakeCallError(code, "no"))
    with pytest.raises(FlyteSystemException):
        raise error
    with pytest.raises(precise):
        raise error


def test_the_module_table_says_what_the_mapping_does() -> None:
    doc = exceptions.__doc__ or ""
    rows = re.findall(r"^([A-Z_]+)\s+(Flyte\w+)\s+(Flyte\w+)$", doc, flags=re.MULTILINE)
    assert len(rows) == 11
    for code_name, ours, theirs in rows:
        code = grpc.StatusCode[code_name]
        assert exception_class_for(code_name).__name__ == ours, code_name
        assert flytekit_class_for(code).__name__ == theirs, code_name
        assert issubclass(getattr(exceptions, ours), getattr(exceptions, theirs)), code_name


def test_a_tls_failure_is_a_system_error_but_never_an_outage() -> None:
    details = (
        "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:443: Ssl handshake failed "
        "(TSI_PROTOCOL_FAILURE): SSL_ERROR_SSL: error:1000007d:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED"
    )
    error = permanent_transport_error(_FakeCallError(grpc.StatusCode.UNAVAILABLE, details), "/x/GetExecution")
    assert isinstance(error, FlyteTransportConfigurationException)
    assert isinstance(error, FlyteConfigurationException)
    assert isinstance(error, FlyteSystemException)  # flytekit-style `except FlyteSystemException` catches it
    assert not isinstance(error, FlyteSystemUnavailableException)  # deliberately: retries and waits would not help
