"""Sync gRPC client interceptors, one concern each, plus the pieces the asyncio twins reuse.

Stacked outermost first by :mod:`.raw`::

    RetryInterceptor          error mapping, per-attempt deadline, retries (RetryPolicy)
    AuthInterceptor           bearer token (TokenSource), one refresh + re-send on UNAUTHENTICATED or UNKNOWN
    AuthInterceptor           proxy-authorization, when a proxy command is configured
    DefaultMetadataInterceptor  ``accept: application/grpc``

Every decision (what to retry, how long to sleep, what to send, when to refresh a token) lives in transport-neutral
objects (:class:`DefaultMetadata`, :class:`~.policy.RetryPolicy`, :class:`~.auth.TokenSource`); these classes and
their :mod:`.aio_interceptors` twins only adapt them to the sync or the asyncio calling convention.

The happy path is kept cheap: metadata tuples are built once, a token is served from its cache, and the first
attempt runs without any tenacity machinery. The classes are ordinary gRPC interceptors (they work with
``grpc.intercept_channel``); the raw client chains them with :func:`intercept_channel`, which builds the chain once
per method rather than once per call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple

import grpc

from airflow_provider_flyte.clients.policy import may_resend_after_unknown
from airflow_provider_flyte.exceptions import FlyteException, FlyteSystemException

if TYPE_CHECKING:
    from airflow_provider_flyte.clients.auth.token_source import TokenSource
    from airflow_provider_flyte.clients.policy import RetryPolicy, RpcPlan

Metadata = tuple[tuple[str, str], ...]

_UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED
_UNKNOWN = grpc.StatusCode.UNKNOWN


def refresh_and_resend(code: grpc.StatusCode | None, method: str | bytes, request: Any) -> bool:
    """Whether a call that carried a token and failed with ``code`` is re-sent once with a refreshed token.

    Yes for UNAUTHENTICATED. Yes for UNKNOWN too, as flytekit does (a proxy or an identity provider may answer
    UNKNOWN for an expired token), unless the call is one a second copy of which could start a second execution
    (:func:`~.policy.may_resend_after_unknown`). The caller re-sends at most once, so a second failure is final.
    """
    if code is _UNAUTHENTICATED:
        return True
    return code is _UNKNOWN and may_resend_after_unknown(method, request)


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


class Succeeded:
    """A successful unary outcome, shaped like the ones gRPC hands to interceptors (``result()``, ``code()``...).

    Args:
        response: The response message.
        call: The underlying ``grpc.Call``, when there is one (a recovered named create has none).
    """

    __slots__ = ("_call", "_response")

    def __init__(self, response: Any, call: grpc.Call | None = None) -> None:
        self._response = response
        self._call = call

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

    def initial_metadata(self) -> Any:
        """The server's initial metadata (empty for a made-up outcome)."""
        return self._call.initial_metadata() if self._call is not None else ()

    def trailing_metadata(self) -> Any:
        """The server's trailing metadata (empty for a made-up outcome)."""
        return self._call.trailing_metadata() if self._call is not None else ()


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
    """Adds a token's header and, for unary calls, refreshes it once and re-sends on UNAUTHENTICATED or UNKNOWN.

    Every call through this interceptor carries a token, so every such failure qualifies (see
    :func:`refresh_and_resend` for the one exception). The call is re-sent at most once: a second UNAUTHENTICATED or
    UNKNOWN is raised.

    Args:
        token_source: Where the header comes from; shared with other clients built from the same config.
    """

    def __init__(self, token_source: TokenSource) -> None:
        self._source = token_source

    def intercept_unary_unary(self, continuation: Continuation, client_call_details: Any, request: Any) -> Any:
        """Send the call with the current token; on UNAUTHENTICATED or UNKNOWN refresh it (once) and re-send."""
        source = self._source
        sent = source.metadata()
        outcome = continuation(with_metadata(client_call_details, sent), request)
        if (
            isinstance(outcome, grpc.RpcError)
            and source.can_refresh
            and refresh_and_resend(outcome.code(), client_call_details.method, request)
        ):
            fresh = source.refreshed_metadata(sent)
            outcome = continuation(with_metadata(client_call_details, fresh), request)
        return outcome

    def intercept_unary_stream(self, continuation: Continuation, client_call_details: Any, request: Any) -> Any:
        """Send the streaming call with the current token (a stream is not re-sent)."""
        return continuation(with_metadata(client_call_details, self._source.metadata()), request)


class RetryInterceptor(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    """Applies the per-attempt deadline, retries transient failures and raises our exceptions.

    Server streams (Flyte 2's watches) only get the error mapping: no deadline unless the call gives one, and no
    retry, since only the reader knows where to resume a cut stream.

    Args:
        policy: The shared retry, deadline and error policy.
    """

    def __init__(self, policy: RetryPolicy) -> None:
        self._policy = policy

    def intercept_unary_stream(self, continuation: Continuation, client_call_details: Any, request: Any) -> Any:
        """Open the stream; its failures are raised as our exceptions while it is read."""
        call = continuation(client_call_details, request)
        return MappedStream(call, self._policy.plan(client_call_details.method), self._policy)

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
                return Succeeded(recovered)
            raise policy.to_exception(plan, error) from error
        return outcome


class MappedStream:
    """A sync server-stream call whose failures are raised as :mod:`airflow_provider_flyte.exceptions` while read.

    Iterating it yields the responses; ``cancel()`` and the other ``grpc.Call`` methods are the call's own.
    """

    __slots__ = ("_call", "_plan", "_policy")

    def __init__(self, call: Any, plan: RpcPlan, policy: RetryPolicy) -> None:
        self._call = call
        self._plan = plan
        self._policy = policy

    def __iter__(self) -> MappedStream:
        return self

    def __next__(self) -> Any:
        try:
            return next(self._call)
        except grpc.RpcError as error:
            raise self._policy.to_exception(self._plan, error) from error

    def cancel(self) -> bool:
        """Cancel the stream (the server sees CANCELLED)."""
        return bool(self._call.cancel())

    def __getattr__(self, name: str) -> Any:
        return getattr(self._call, name)


def _innermost(
    multicallable: grpc.UnaryUnaryMultiCallable[Any, Any], details: grpc.ClientCallDetails, request: Any
) -> Any:
    try:
        response, call = multicallable.with_call(
            request,
            timeout=details.timeout,
            metadata=details.metadata,
            credentials=details.credentials,
            wait_for_ready=getattr(details, "wait_for_ready", None),
            compression=getattr(details, "compression", None),
        )
    except grpc.RpcError as error:
        return error  # interceptors receive failures as outcomes, as with grpc.intercept_channel
    return Succeeded(response, call)


def _step(interceptor: grpc.UnaryUnaryClientInterceptor, continuation: Continuation, details: Any, request: Any) -> Any:
    try:
        return interceptor.intercept_unary_unary(continuation, details, request)
    except grpc.RpcError as error:
        return error
    except FlyteException as error:
        return _LocalFailure(error)


class _LocalFailure(grpc.RpcError):
    """An exception raised by an inner interceptor, carried outwards as a failed outcome (see :func:`local_failure`)."""

    def __init__(self, error: FlyteException) -> None:
        super().__init__(str(error))
        self._error = error

    def exception(self, timeout: float | None = None) -> FlyteException:
        return self._error

    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.INTERNAL

    def result(self, timeout: float | None = None) -> Any:
        raise self._error


class ChannelState:
    """Shared by the intercepted views of one channel: whether its client closed it.

    Lets a call on a closed client fail with a clear :class:`FlyteSystemException` instead of gRPC's bare
    ``ValueError``, while costing nothing on the happy path (it is only read when a call fails that way).
    """

    __slots__ = ("closed",)

    def __init__(self) -> None:
        self.closed = False

    def closed_error(self, method: str | bytes) -> FlyteSystemException:
        """The exception for a call made after the client was closed."""
        name = method.decode() if isinstance(method, bytes) else method
        return FlyteSystemException(f"the client is closed; create a new one to call {name.lstrip('/')}")


class InterceptedUnaryUnary:
    """A unary-unary method whose calls run through a chain of sync gRPC interceptors.

    It behaves like ``grpc.intercept_channel`` for unary calls (same interceptor protocol, failures handed to
    interceptors as outcomes) but builds the chain once per method instead of re-creating multicallables and
    closures on every call.
    """

    __slots__ = ("_chain", "_method", "_state")

    def __init__(
        self,
        method: str,
        multicallable: grpc.UnaryUnaryMultiCallable[Any, Any],
        interceptors: Sequence[grpc.UnaryUnaryClientInterceptor],
        state: ChannelState | None = None,
    ) -> None:
        self._method = method
        self._state = state or ChannelState()
        chain: Continuation = partial(_innermost, multicallable)
        for interceptor in reversed(interceptors):
            chain = partial(_step, interceptor, chain)
        self._chain = chain

    def _run(self, details: _CallDetails, request: Any) -> Any:
        try:
            return self._chain(details, request)
        except ValueError as error:  # gRPC's answer to a call on a closed channel
            if self._state.closed:
                raise self._state.closed_error(self._method) from error
            raise

    def with_call(
        self,
        request: Any,
        timeout: float | None = None,
        metadata: Any = None,
        credentials: grpc.CallCredentials | None = None,
        wait_for_ready: bool | None = None,
        compression: grpc.Compression | None = None,
    ) -> tuple[Any, Any]:
        """Send ``request`` through the interceptors; return ``(response, outcome)``."""
        details = _CallDetails(self._method, timeout, metadata, credentials, wait_for_ready, compression)
        outcome = self._run(details, request)
        return outcome.result(), outcome

    def __call__(
        self,
        request: Any,
        timeout: float | None = None,
        metadata: Any = None,
        credentials: grpc.CallCredentials | None = None,
        wait_for_ready: bool | None = None,
        compression: grpc.Compression | None = None,
    ) -> Any:
        """Send ``request`` through the interceptors and return the response."""
        details = _CallDetails(self._method, timeout, metadata, credentials, wait_for_ready, compression)
        return self._run(details, request).result()


def _open_stream(
    multicallable: grpc.UnaryStreamMultiCallable[Any, Any], details: grpc.ClientCallDetails, request: Any
) -> Any:
    return multicallable(
        request,
        timeout=details.timeout,
        metadata=details.metadata,
        credentials=details.credentials,
        wait_for_ready=getattr(details, "wait_for_ready", None),
        compression=getattr(details, "compression", None),
    )


class InterceptedUnaryStream:
    """A server-streaming method whose calls run through the chain of the interceptors that handle streams.

    Calling it returns the stream (an iterator of responses with ``cancel()``), as a gRPC stub's method does.
    """

    __slots__ = ("_chain", "_method", "_state")

    def __init__(
        self,
        method: str,
        multicallable: grpc.UnaryStreamMultiCallable[Any, Any],
        interceptors: Sequence[grpc.UnaryStreamClientInterceptor],
        state: ChannelState | None = None,
    ) -> None:
        self._method = method
        self._state = state or ChannelState()
        chain: Continuation = partial(_open_stream, multicallable)
        for interceptor in reversed(interceptors):
            chain = partial(interceptor.intercept_unary_stream, chain)
        self._chain = chain

    def __call__(
        self,
        request: Any,
        timeout: float | None = None,
        metadata: Any = None,
        credentials: grpc.CallCredentials | None = None,
        wait_for_ready: bool | None = None,
        compression: grpc.Compression | None = None,
    ) -> Any:
        """Open the stream for ``request`` through the interceptors."""
        details = _CallDetails(self._method, timeout, metadata, credentials, wait_for_ready, compression)
        try:
            return self._chain(details, request)
        except ValueError as error:  # gRPC's answer to a call on a closed channel
            if self._state.closed:
                raise self._state.closed_error(self._method) from error
            raise


class InterceptedChannel:
    """Just enough of a ``grpc.Channel`` for flyteidl's stubs, with every unary-unary method intercepted.

    Server-streaming methods (Flyte 2's watches) run through the interceptors that also handle streams; other call
    shapes are not offered.

    Args:
        channel: The underlying channel (owned by the caller, who closes it and then sets ``state.closed``).
        interceptors: Unary-unary interceptors, outermost first.
        state: Shared with other views of the same channel.
    """

    def __init__(
        self,
        channel: grpc.Channel,
        interceptors: Sequence[grpc.UnaryUnaryClientInterceptor],
        state: ChannelState | None = None,
    ) -> None:
        self._channel = channel
        self._interceptors = tuple(interceptors)
        self.state = state or ChannelState()

    def unary_unary(
        self,
        method: str,
        request_serializer: Callable[[Any], bytes] | None = None,
        response_deserializer: Callable[[bytes], Any] | None = None,
        _registered_method: bool | None = False,
    ) -> InterceptedUnaryUnary:
        """Return the intercepted method (the signature flyteidl's generated stubs call)."""
        multicallable = self._channel.unary_unary(
            method,
            request_serializer=request_serializer,
            response_deserializer=response_deserializer,
            _registered_method=_registered_method,  # type: ignore[call-arg]
        )
        return InterceptedUnaryUnary(method, multicallable, self._interceptors, self.state)

    def unary_stream(
        self,
        method: str,
        request_serializer: Callable[[Any], bytes] | None = None,
        response_deserializer: Callable[[bytes], Any] | None = None,
        _registered_method: bool | None = False,
    ) -> InterceptedUnaryStream:
        """Return the intercepted server-streaming method (the signature the generated stubs call)."""
        multicallable = self._channel.unary_stream(
            method,
            request_serializer=request_serializer,
            response_deserializer=response_deserializer,
            _registered_method=_registered_method,  # type: ignore[call-arg]
        )
        streaming = [i for i in self._interceptors if isinstance(i, grpc.UnaryStreamClientInterceptor)]
        return InterceptedUnaryStream(method, multicallable, streaming, self.state)


def intercept_channel(
    channel: grpc.Channel, *interceptors: grpc.UnaryUnaryClientInterceptor, state: ChannelState | None = None
) -> InterceptedChannel:
    """Wrap ``channel`` so stubs built on the result run ``interceptors`` (outermost first) on every unary call."""
    return InterceptedChannel(channel, interceptors, state)
