import grpc
import pytest

from airflow_provider_flyte.exceptions import (
    FlyteAuthenticationException,
    FlyteEntityAlreadyExistsException,
    FlyteEntityNotExistException,
    FlyteFailedPreconditionException,
    FlyteInvalidInputException,
    FlyteResourceExhaustedException,
    FlyteSystemException,
    FlyteSystemUnavailableException,
    FlyteTimeout,
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
        (grpc.StatusCode.FAILED_PRECONDITION, FlyteFailedPreconditionException),
        (grpc.StatusCode.UNAUTHENTICATED, FlyteAuthenticationException),
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
