"""Sync gRPC client interceptors, one concern each, plus the pieces the asyncio twins reuse.

Stacked outermost first by :mod:`.raw`::

    RetryInterceptor          error mapping, per-attempt deadline, retries (RetryPolicy)
    AuthInterceptor           bearer token (TokenSource), one refresh + re-send on UNAUTHENTICATED
    AuthInterceptor           proxy-authorization, when a proxy command is configured
    DefaultMetadataInterceptor  ``accept: application/grpc``

Every decision (what to retry, how long to sleep, what to send, when to refresh a token) lives in transport-neutral
objects (:class:`DefaultMetadata`, :class:`~.policy.RetryPolicy`, :class:`~.auth.TokenSource`); these classes and
their :mod:`.aio_interceptors` twins only adapt them to the sync or the asyncio calling convention.

The happy path is kept cheap: metadata tuples are built once, a token is served from its cache, and the first
attempt runs without any tenacity machinery.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import grpc

from airflow_provider_flyte.exceptions import FlyteException

if TYPE_CHECKING:
    from airflow_provider_flyte.clients.auth.token_source import TokenSource
    from airflow_provider_flyte.clients.policy import RetryPolicy

Metadata = tuple[tuple[str, str], ...]

_UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED


class DefaultMetadata:
    """The metadata every call carries (``accept: application/grpc``), as one prebuilt tuple.

    The user agent is not here: gRPC reserves the ``user-agent`` header, so it is set with the
    ``grpc.primary_user_agent`` channel option (see :mod:`.channel`).

    Args:
        extra: More ``(key, value)`` pairs to send on every call; keys must be lowercase.
    """

    def __init__(self, extra: Metadata = ()) -> None:
        self.pairs: Metadata = (("accept", "application/grpc"), *extra)


class _CallDetailsFields(NamedTuple):
    method: str
    timeout: float | None
    metadata: Any
    credentials: grpc.CallCredentials | None
    wait_for_ready: bool | None
    compression: grpc.Compression | None


class _CallDetails(_CallDetailsFields, grpc.ClientCallDetails):
    """Concrete, immutable ``grpc.ClientCallDetails``."""


def _replace(details: grpc.ClientCallDetails, *, timeout: float | None = None, metadata: Any = None) -> _CallDetails:
    return _CallDetails(
        details.method,
        timeout if timeout is not None else details.timeout,
        metadata if metadata is not None else details.metadata,
        details.credentials,
        getattr(details, "wait_for_ready", None),
        getattr(details, "compression", None),
    )


def with_metadata(details: grpc.ClientCallDetails, pairs: Metadata) -> _CallDetails:
    """Return ``details`` with ``pairs`` appended to its metadata."""
    existing = details.metadata
    return _replace(details, metadata=(*existing, *pairs) if existing else pairs)


def local_failure(outcome: grpc.RpcError) -> FlyteException | None:
    """Return the exception an inner interceptor raised, which gRPC hands back wrapped as a failed outcome."""
    exception = getattr(outcome, "exception", None)
    if callable(exception):
        try:
            inner = exception()
        except Exception:  # not a future-like outcome
            return None
        if isinstance(inner, FlyteException):
            return inner
    return None


class _Completed:
    """A successful outcome made up locally (a recovered named create); gRPC only needs ``result()`` from it."""

    def __init__(self, response: Any) -> None:
        self._response = response

    def result(self, timeout: float | None = None) -> Any:
        """The response."""
        return self._response

    def exception(self, timeout: float | None = None) -> BaseException | None:
        """Always ``None``: the outcome succeeded."""
        return None

    def code(self) -> grpc.StatusCode:
        """Always ``OK``."""
        return grpc.StatusCode.OK

    def details(self) -> str:
        """Always empty."""
        return ""


Continuation = Callable[[grpc.ClientCallDetails, Any], Any]


class DefaultMetadataInterceptor(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    """Adds :class:`DefaultMetadata` to every call."""

    def __init__(self, metadata: DefaultMetadata | None = None) -> None:
        self._pairs = (metadata or DefaultMetadata()).pairs

    def intercept_unary_unary(self, continuation: Continuation, client_call_details: Any, request: Any) -> Any:
        """Send the call with the default metadata added."""
        return continuation(with_metadata(client_call_details, self._pairs), request)

    def intercept_unary_stream(self, continuation: Continuation, client_call_details: Any, request: Any) -> Any:
        """Send the streaming call with the default metadata added."""
        return continuation(with_metadata(client_call_details, self._pairs), request)


class AuthInterceptor(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    """Adds a token's header and, for unary calls, refreshes it once and re-sends on UNAUTHENTICATED.

    Args:
        token_source: Where the header comes from; shared with other clients built from the same config.
    """

    def __init__(self, token_source: TokenSource) -> None:
        self._source = token_source

    def intercept_unary_unary(self, continuation: Continuation, client_call_details: Any, request: Any) -> Any:
        """Send the call with the current token; on UNAUTHENTICATED refresh it (once across callers) and re-send."""
        source = self._source
        sent = source.metadata()
        outcome = continuation(with_metadata(client_call_details, sent), request)
        if isinstance(outcome, grpc.RpcError) and outcome.code() is _UNAUTHENTICATED and source.can_refresh:
            fresh = source.refreshed_metadata(sent)
            outcome = continuation(with_metadata(client_call_details, fresh), request)
        return outcome

    def intercept_unary_stream(self, continuation: Continuation, client_call_details: Any, request: Any) -> Any:
        """Send the streaming call with the current token (a stream is not re-sent)."""
        return continuation(with_metadata(client_call_details, self._source.metadata()), request)


class RetryInterceptor(grpc.UnaryUnaryClientInterceptor):
    """Applies the per-attempt deadline, retries transient failures and raises our exceptions.

    Args:
        policy: The shared retry, deadline and error policy.
    """

    def __init__(self, policy: RetryPolicy) -> None:
        self._policy = policy

    def intercept_unary_unary(self, continuation: Continuation, client_call_details: Any, request: Any) -> Any:
        """Make the first attempt directly; enter the tenacity loop only after a retryable failure."""
        policy = self._policy
        plan = policy.plan(client_call_details.method)
        first_timeout, deadline = policy.start(client_call_details.timeout)
        outcome = continuation(_replace(client_call_details, timeout=first_timeout), request)
        if not isinstance(outcome, grpc.RpcError):
            return outcome
        local = local_failure(outcome)
        if local is not None:
            raise local
        if not policy.first_failure_is_retryable(plan, request, outcome):
            raise policy.to_exception(plan, outcome) from outcome
        return self._retry(continuation, client_call_details, request, plan, deadline, outcome)

    def _retry(
        self,
        continuation: Continuation,
        details: Any,
        request: Any,
        plan: Any,
        deadline: float,
        first_error: grpc.RpcError,
    ) -> Any:
        policy = self._policy
        pending: BaseException | None = first_error
        attempt_number = 1
        outcome: Any = None
        try:
            for attempt in policy.retrying(plan, request, deadline):
                with attempt:
                    attempt_number = attempt.retry_state.attempt_number
                    if pending is not None:  # replay the first failure so tenacity counts it as attempt 1
                        error, pending = pending, None
                        raise error
                    timeout = policy.attempt_timeout(details.timeout, deadline)
                    outcome = continuation(_replace(details, timeout=timeout), request)
                    if isinstance(outcome, grpc.RpcError):
                        raise local_failure(outcome) or outcome
        except grpc.RpcError as error:
            recovered = policy.recover_after_retry(plan, request, error, attempt_number)
            if recovered is not None:
                return _Completed(recovered)
            raise policy.to_exception(plan, error) from error
        return outcome
