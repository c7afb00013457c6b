"""The Flyte exception family and the single mapping from gRPC status codes to it.

Every exception raised for a failed RPC carries the gRPC status code, the RPC name and the server's message, so a
caller can branch on the type and still log something useful. Class names follow flytekit's, so code written
against flytekit's client keeps working.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    import grpc


class FlyteException(Exception):
    """Base class of every error this package raises on purpose.

    Attributes:
        code: The gRPC status code name (``"NOT_FOUND"``...), or ``None`` when the error did not come from an RPC.
        rpc: The RPC that failed, e.g. ``"flyteidl.service.AdminService/GetExecution"``, or ``None``.
        server_message: The status details text as the server sent it (empty when there was none).
    """

    error_code: ClassVar[str] = "SYSTEM:Unknown"

    def __init__(
        self,
        message: str = "",
        *,
        code: str | None = None,
        rpc: str | None = None,
        server_message: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.rpc = rpc
        self.server_message = server_message

    def __str__(self) -> str:
        if self.code is None:
            return self.message
        where = f" in {self.rpc}" if self.rpc else ""
        return f"{self.code}{where}: {self.message}"


class FlyteSystemException(FlyteException):
    """The server or the transport failed in a way no more specific class describes."""

    error_code = "SYSTEM:Unknown"


class FlyteSystemUnavailableException(FlyteSystemException):
    """Flyte Admin could not be reached or is temporarily unable to serve (UNAVAILABLE)."""

    error_code = "SYSTEM:Unavailable"


class FlyteResourceExhaustedException(FlyteSystemException):
    """The server is rate limiting or out of capacity (RESOURCE_EXHAUSTED); retried with backoff."""

    error_code = "SYSTEM:ResourceExhausted"


class FlyteAdminUnreachableException(FlyteSystemUnavailableException):
    """A wait gave up because Flyte Admin stayed unreachable for longer than its ``outage_tolerance``.

    Attributes:
        unreachable_for: Seconds of wall time Admin had been failing when the wait gave up.
        tolerance: The ``outage_tolerance`` that was exceeded, in seconds.
    """

    error_code = "SYSTEM:Unavailable"

    def __init__(self, message: str, *, unreachable_for: float, tolerance: float) -> None:
        super().__init__(message)
        self.unreachable_for = unreachable_for
        self.tolerance = tolerance


class FlyteUserException(FlyteException):
    """The request itself is at fault: fixing the call, not retrying it, is the remedy."""

    error_code = "USER:Unknown"


class FlyteAssertion(FlyteUserException, AssertionError):
    """Base of the user errors that flytekit also derives from ``AssertionError``."""

    error_code = "USER:AssertionError"


class FlyteEntityAlreadyExistsException(FlyteAssertion):
    """An entity or execution with this identifier already exists (ALREADY_EXISTS)."""

    error_code = "USER:EntityAlreadyExists"


class FlyteEntityNotExistException(FlyteAssertion):
    """The requested entity, execution or signal does not exist (NOT_FOUND)."""

    error_code = "USER:EntityNotExist"


class FlyteAuthenticationException(FlyteAssertion):
    """Credentials are missing, invalid, expired or cannot be obtained (UNAUTHENTICATED, PERMISSION_DENIED)."""

    error_code = "USER:AuthenticationError"


class FlyteTimeout(FlyteAssertion):
    """A deadline passed: an RPC's (DEADLINE_EXCEEDED) or a blocking wait's."""

    error_code = "USER:Timeout"


class FlyteInvalidInputException(FlyteUserException):
    """The server rejected the request's content (INVALID_ARGUMENT, OUT_OF_RANGE) or a local check did."""

    error_code = "USER:BadInputToAPI"


class FlyteFailedPreconditionException(FlyteUserException):
    """The request is valid but not in the entity's current state, e.g. aborting a finished run.."""

    error_code = "USER:FailedPrecondition"


class FlyteConfigurationException(FlyteUserException):
    """A configuration value (environment, config file, connection) is missing or malformed."""

    error_code = "USER:Configuration"


class FlyteNotImplementedException(FlyteSystemException):
    """The server does not implement the RPC (UNIMPLEMENTED), e.g. an auth service when auth is off."""

    error_code = "SYSTEM:NotImplemented"


_BY_CODE_NAME: dict[str, type[FlyteException]] = {
    "ALREADY_EXISTS": FlyteEntityAlreadyExistsException,
    "NOT_FOUND": FlyteEntityNotExistException,
    "INVALID_ARGUMENT": FlyteInvalidInputException,
    "OUT_OF_RANGE": FlyteInvalidInputException,
    "FAILED_PRECONDITION": FlyteFailedPreconditionException,
    "UNAUTHENTICATED": FlyteAuthenticationException,
    "PERMISSION_DENIED": FlyteAuthenticationException,
    "UNAVAILABLE": FlyteSystemUnavailableException,
    "RESOURCE_EXHAUSTED": FlyteResourceExhaustedException,
    "DEADLINE_EXCEEDED": FlyteTimeout,
    "UNIMPLEMENTED": FlyteNotImplementedException,
}


def exception_class_for(code_name: str) -> type[FlyteException]:
    """Return the exception class for a gRPC status code name (``"NOT_FOUND"``...)."""
    return _BY_CODE_NAME.get(code_name, FlyteSystemException)


def from_grpc_error(error: grpc.RpcError, rpc: str | None = None) -> FlyteException:
    """Translate a failed RPC into the matching Flyte exception, keeping code, RPC name and server message.

    Args:
        error: The error raised by a gRPC stub (a ``grpc.Call`` for unary calls, sync or asyncio).
        rpc: The full method name, e.g. ``"/flyteidl.service.AdminService/GetExecution"``.

    Returns:
        The exception to raise (``raise from_grpc_error(e, rpc) from e``). The retry policy first tells TLS
        failures that no retry can fix apart from outages (:mod:`airflow_provider_flyte.clients.transport_errors`).
    """
    status = error.code() if hasattr(error, "code") else None
    code_name = status.name if status is not None else "UNKNOWN"
    details = error.details() if hasattr(error, "details") else None
    server_message = details or ""
    rpc_name = rpc.lstrip("/") if rpc else None
    cls = exception_class_for(code_name)
    return cls(
        server_message or code_name.lower().replace("_", " "),
        code=code_name,
        rpc=rpc_name,
        server_message=server_message,
    )
