"""The Flyte exception family and the single mapping from gRPC status codes to it.

Every exception raised for a failed RPC carries the gRPC status code, the RPC name and the server's message, so a
caller can branch on the type and still log something useful. Class names follow flytekit's, so code written
against flytekit's client keeps working.

The hierarchy is catch-compatible with flytekit's: for every gRPC status code, the exception raised here is an
instance of (our twin of) every class flytekit's would be an instance of. flytekit
(``flytekit/clients/grpc_utils/wrap_exception_interceptor.py``) maps six codes to precise classes and every other
code to ``FlyteSystemException``; where this module keeps a more precise class for one of those other codes, the
class also derives from :class:`FlyteSystemException`:

====================  =====================================  ==========================================
gRPC status code      raised here                            flytekit raises (ours is also one)
====================  =====================================  ==========================================
ALREADY_EXISTS        FlyteEntityAlreadyExistsException      FlyteEntityAlreadyExistsException
NOT_FOUND             FlyteEntityNotExistException           FlyteEntityNotExistException
INVALID_ARGUMENT      FlyteInvalidInputException             FlyteInvalidInputException
UNAUTHENTICATED       FlyteAuthenticationException           FlyteAuthenticationException
UNAVAILABLE           FlyteSystemUnavailableException        FlyteSystemUnavailableException
DEADLINE_EXCEEDED     FlyteTimeout                           FlyteTimeout
FAILED_PRECONDITION   FlyteFailedPreconditionException       FlyteSystemException
PERMISSION_DENIED     FlytePermissionDeniedException         FlyteSystemException
OUT_OF_RANGE          FlyteOutOfRangeException               FlyteSystemException
RESOURCE_EXHAUSTED    FlyteResourceExhaustedException        FlyteSystemException
UNIMPLEMENTED         FlyteNotImplementedException           FlyteSystemException
any other code        FlyteSystemException                   FlyteSystemException
====================  =====================================  ==========================================

One deliberate difference: a TLS misconfiguration, which gRPC reports as UNAVAILABLE, raises
:class:`FlyteTransportConfigurationException` (a :class:`FlyteConfigurationException` and a
:class:`FlyteSystemException`, but not a :class:`FlyteSystemUnavailableException`), so that no retry and no outage
wait treats it as Flyte Admin being down (:mod:`airflow_provider_flyte.clients.transport_errors`).
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
    """Credentials are missing, invalid, expired or cannot be obtained (UNAUTHENTICATED).

    PERMISSION_DENIED raises the subclass :class:`FlytePermissionDeniedException`.
    """

    error_code = "USER:AuthenticationError"


class FlytePermissionDeniedException(FlyteAuthenticationException, FlyteSystemException):
    """The caller is authenticated but not allowed to make this request (PERMISSION_DENIED).

    Also a :class:`FlyteSystemException`, the class flytekit raises for this code, so ``except FlyteSystemException``
    written against flytekit still catches it.
    """

    error_code = "USER:PermissionDenied"


class FlyteTimeout(FlyteAssertion):
    """A deadline passed: an RPC's (DEADLINE_EXCEEDED) or a blocking wait's."""

    error_code = "USER:Timeout"


class FlyteInvalidInputException(FlyteUserException):
    """The server rejected the request's content (INVALID_ARGUMENT) or a local check did.

    OUT_OF_RANGE raises the subclass :class:`FlyteOutOfRangeException`.
    """

    error_code = "USER:BadInputToAPI"


class FlyteOutOfRangeException(FlyteInvalidInputException, FlyteSystemException):
    """A value in the request is outside the range the server accepts (OUT_OF_RANGE).

    Also a :class:`FlyteSystemException`, the class flytekit raises for this code.
    """

    error_code = "USER:OutOfRange"


class FlyteFailedPreconditionException(FlyteUserException, FlyteSystemException):
    """The request is valid but not in the entity's current state, e.g. aborting a finished run (FAILED_PRECONDITION).

    Also a :class:`FlyteSystemException`, the class flytekit raises for this code, so ``except FlyteSystemException``
    written against flytekit still catches it.
    """

    error_code = "USER:FailedPrecondition"


class FlyteConfigurationException(FlyteUserException):
    """A configuration value (environment, config file, connection) is missing or malformed."""

    error_code = "USER:Configuration"


class FlyteTransportConfigurationException(FlyteConfigurationException, FlyteSystemException):
    """A call failed because of a TLS setting (untrusted certificate, wrong host name, TLS to a plain-text server).

    gRPC reports these as UNAVAILABLE, for which flytekit raises ``FlyteSystemUnavailableException``; this class is
    a :class:`FlyteSystemException` like flytekit's, but not a :class:`FlyteSystemUnavailableException`: no retry
    or outage wait can fix a setting.
    """

    error_code = "USER:Configuration"


class FlyteNotImplementedException(FlyteSystemException):
    """The server does not implement the RPC (UNIMPLEMENTED), e.g. an auth service when auth is off."""

    error_code = "SYSTEM:NotImplemented"


_BY_CODE_NAME: dict[str, type[FlyteException]] = {
    "ALREADY_EXISTS": FlyteEntityAlreadyExistsException,
    "NOT_FOUND": FlyteEntityNotExistException,
    "INVALID_ARGUMENT": FlyteInvalidInputException,
    "OUT_OF_RANGE": FlyteOutOfRangeException,
    "FAILED_PRECONDITION": FlyteFailedPreconditionException,
    "UNAUTHENTICATED": FlyteAuthenticationException,
    "PERMISSION_DENIED": FlytePermissionDeniedException,
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
