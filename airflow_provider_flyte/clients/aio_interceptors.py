"""grpc.aio twins of :mod:`.interceptors`: the same concerns and decisions, the asyncio calling convention.

Each class delegates every decision to the object its sync twin uses (:class:`~.interceptors.DefaultMetadata`,
:class:`~.auth.token_source.TokenSource`, :class:`~.policy.RetryPolicy`); only awaiting differs.

The classes are ordinary ``grpc.aio`` client interceptors and work on any ``grpc.aio`` channel. The raw asyncio
client runs them with :func:`intercept_aio_channel` instead of the channel's ``interceptors=`` argument: grpc.aio
wraps every intercepted call in an extra task and call object, which alone costs about 20 % more client CPU per
unary call (see ``benchmarks/bench_client_overhead.py``), while chaining the same interceptors as plain coroutines
costs next to nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import grpc
import grpc.aio

from airflow_provider_flyte.clients.interceptors import ChannelState, DefaultMetadata, Metadata, refresh_and_resend

if TYPE_CHECKING:
    from airflow_provider_flyte.clients.auth.token_source import TokenSource
    from airflow_provider_flyte.clients.policy import RetryPolicy, RpcPlan

AsyncContinuation = Callable[[grpc.aio.ClientCallDetails, Any], Awaitable[Any]]


def with_metadata(details: grpc.aio.ClientCallDetails, pairs: Metadata) -> grpc.aio.ClientCallDetails:
    """Return ``details`` with ``pairs`` appended to its metadata."""
    existing = details.metadata
    metadata = grpc.aio.Metadata(*existing, *pairs) if existing else grpc.aio.Metadata(*pairs)
    return details._replace(metadata=metadata)  # type: ignore[attr-defined, no-any-return]


def with_timeout(details: grpc.aio.ClientCallDetails, timeout: float) -> grpc.aio.ClientCallDetails:
    """Return ``details`` with its deadline replaced by ``timeout`` seconds."""
    return details._replace(timeout=timeout)  # type: ignore[attr-defined, no-any-return]


class AsyncDefaultMetadataInterceptor(grpc.aio.UnaryUnaryClientInterceptor, grpc.aio.UnaryStreamClientInterceptor):
    """Adds :class:`~.interceptors.DefaultMetadata` to every call."""

    def __init__(self, metadata: DefaultMetadata | None = None) -> None:
        self._pairs = (metadata or DefaultMetadata()).pairs

    async def intercept_unary_unary(
        self, continuation: AsyncContinuation, client_call_details: grpc.aio.ClientCallDetails, request: Any
    ) -> Any:
        """Send the call with the default metadata added."""
        return await continuation(with_metadata(client_call_details, self._pairs), request)

    async def intercept_unary_stream(
        self, continuation: AsyncContinuation, client_call_details: grpc.aio.ClientCallDetails, request: Any
    ) -> Any:
        """Send the streaming call with the default metadata added."""
        return await continuation(with_metadata(client_call_details, self._pairs), request)


class AsyncAuthInterceptor(grpc.aio.UnaryUnaryClientInterceptor, grpc.aio.UnaryStreamClientInterceptor):
    """Adds a token's header; for unary calls refreshes it once and re-sends on UNAUTHENTICATED or UNKNOWN.

    The same rule as :class:`~.interceptors.AuthInterceptor` (:func:`~.interceptors.refresh_and_resend`): at most one
    re-send, so a second UNAUTHENTICATED or UNKNOWN is raised. The token fetch never blocks the event loop:
    :class:`~.auth.token_source.TokenSource` runs it in a worker thread.
    """

    def __init__(self, token_source: TokenSource) -> None:
        self._source = token_source

    async def intercept_unary_unary(
        self, continuation: AsyncContinuation, client_call_details: grpc.aio.ClientCallDetails, request: Any
    ) -> Any:
        """Send the call with the current token; on UNAUTHENTICATED or UNKNOWN refresh it (once) and re-send."""
        source = self._source
        sent = await source.metadata_async()
        call = await continuation(with_metadata(client_call_details, sent), request)
        if source.can_refresh and refresh_and_resend(await call.code(), client_call_details.method, request):
            fresh = await source.refreshed_metadata_async(sent)
            call = await continuation(with_metadata(client_call_details, fresh), request)
        return call

    async def intercept_unary_stream(
        self, continuation: AsyncContinuation, client_call_details: grpc.aio.ClientCallDetails, request: Any
    ) -> Any:
        """Send the streaming call with the current token (a stream is not re-sent)."""
        return await continuation(with_metadata(client_call_details, await self._source.metadata_async()), request)


class AsyncRetryInterceptor(grpc.aio.UnaryUnaryClientInterceptor, grpc.aio.UnaryStreamClientInterceptor):
    """Applies the per-attempt deadline, retries transient failures and raises our exceptions.

    Server streams only get the error mapping, as with :class:`~.interceptors.RetryInterceptor`.
    """

    def __init__(self, policy: RetryPolicy) -> None:
        self._policy = policy

    async def intercept_unary_stream(
        self, continuation: AsyncContinuation, client_call_details: grpc.aio.ClientCallDetails, request: Any
    ) -> Any:
        """Open the stream; its failures are raised as our exceptions while it is read."""
        call = await continuation(client_call_details, request)
        return MappedAioStream(call, self._policy.plan(client_call_details.method), self._policy)

    async def intercept_unary_unary(
        self, continuation: AsyncContinuation, client_call_details: grpc.aio.ClientCallDetails, request: Any
    ) -> Any:
        """Make the first attempt directly; enter the tenacity loop only after a retryable failure."""
        policy = self._policy
        plan = policy.plan(client_call_details.method)
        first_timeout, deadline = policy.start(client_call_details.timeout)
        call = await continuation(with_timeout(client_call_details, first_timeout), request)
        try:
            return await call
        except grpc.RpcError as error:
            if not policy.first_failure_is_retryable(plan, request, error):
                raise policy.to_exception(plan, error) from error
            first_error = error
        return await self._retry(continuation, client_call_details, request, plan, deadline, first_error)

    async def _retry(
        self,
        continuation: AsyncContinuation,
        details: grpc.aio.ClientCallDetails,
        request: Any,
        plan: RpcPlan,
        deadline: float,
        first_error: grpc.RpcError,
    ) -> Any:
        policy = self._policy
        pending: BaseException | None = first_error
        attempt_number = 1
        response: Any = None
        try:
            async for attempt in policy.async_retrying(plan, request, deadline):
                with attempt:
                    attempt_number = attempt.retry_state.attempt_number
                    if pending is not None:  # replay the first failure so tenacity counts it as attempt 1
                        error, pending = pending, None
                        raise error
                    timeout = policy.attempt_timeout(details.timeout, deadline)
                    call = await continuation(with_timeout(details, timeout), request)
                    response = await call
        except grpc.RpcError as error:
            recovered = policy.recover_after_retry(plan, request, error, attempt_number)
            if recovered is not None:
                return recovered
            raise policy.to_exception(plan, error) from error
        return response


class MappedAioStream:
    """A grpc.aio server-stream call whose failures are raised as our exceptions while it is read."""

    __slots__ = ("_call", "_iterator", "_plan", "_policy")

    def __init__(self, call: Any, plan: RpcPlan, policy: RetryPolicy) -> None:
        self._call = call
        self._iterator = call.__aiter__()
        self._plan = plan
        self._policy = policy

    def __aiter__(self) -> MappedAioStream:
        return self

    async def __anext__(self) -> Any:
        try:
            return await self._iterator.__anext__()
        except grpc.RpcError as error:
            raise self._policy.to_exception(self._plan, error) from error

    def cancel(self) -> bool:
        """Cancel the stream (the server sees CANCELLED)."""
        return bool(self._call.cancel())


async def _open_stream(
    multicallable: grpc.aio.UnaryStreamMultiCallable[Any, Any], details: grpc.aio.ClientCallDetails, request: Any
) -> Any:
    return multicallable(
        request,
        timeout=details.timeout,
        metadata=details.metadata,
        credentials=details.credentials,
        wait_for_ready=details.wait_for_ready,
    )


class InterceptedAioUnaryStream:
    """A server-streaming method whose calls run through the grpc.aio interceptors that handle streams.

    Calling it returns an async iterator of the responses; the call opens on the first ``__anext__`` and is
    cancelled when the iterator is closed (``aclose()``, or leaving an ``async for`` early).
    """

    __slots__ = ("_chain", "_method", "_state")

    def __init__(
        self,
        method: str,
        multicallable: grpc.aio.UnaryStreamMultiCallable[Any, Any],
        interceptors: Sequence[grpc.aio.UnaryStreamClientInterceptor],
        state: ChannelState | None = None,
    ) -> None:
        self._method = method
        self._state = state or ChannelState()
        chain: AsyncContinuation = partial(_open_stream, multicallable)
        for interceptor in reversed(interceptors):
            chain = partial(interceptor.intercept_unary_stream, chain)
        self._chain = chain

    def __call__(
        self,
        request: Any,
        *,
        timeout: float | None = None,
        metadata: Any = None,
        credentials: grpc.CallCredentials | None = None,
        wait_for_ready: bool | None = None,
    ) -> AsyncIterator[Any]:
        """Return the stream of responses to ``request``."""
        details = grpc.aio.ClientCallDetails(self._method, timeout, metadata, credentials, wait_for_ready)
        return self._stream(details, request)

    async def _stream(self, details: grpc.aio.ClientCallDetails, request: Any) -> AsyncIterator[Any]:
        try:
            call = await self._chain(details, request)
        except (grpc.aio.UsageError, ValueError) as error:  # gRPC's answers to a call on a closed channel
            if self._state.closed:
                raise self._state.closed_error(self._method) from error
            raise
        try:
            async for response in call:
                yield response
        finally:
            call.cancel()


async def _innermost(
    multicallable: grpc.aio.UnaryUnaryMultiCallable[Any, Any], details: grpc.aio.ClientCallDetails, request: Any
) -> Any:
    return multicallable(
        request,
        timeout=details.timeout,
        metadata=details.metadata,
        credentials=details.credentials,
        wait_for_ready=details.wait_for_ready,
    )


class InterceptedUnaryUnary:
    """A unary-unary method whose calls run through a chain of grpc.aio interceptors, as plain coroutines.

    Calling it returns a coroutine resolving to the response (not a ``grpc.aio.Call``): the interceptors own the
    call objects, since a retried call has several.
    """

    __slots__ = ("_chain", "_method", "_state")

    def __init__(
        self,
        method: str,
        multicallable: grpc.aio.UnaryUnaryMultiCallable[Any, Any],
        interceptors: Sequence[grpc.aio.UnaryUnaryClientInterceptor],
        state: ChannelState | None = None,
    ) -> None:
        self._method = method
        self._state = state or ChannelState()
        chain: AsyncContinuation = partial(_innermost, multicallable)
        for interceptor in reversed(interceptors):  # built once per method, outermost interceptor called first
            # The bound method itself is the continuation: no wrapper coroutine (and frame) per interceptor and call.
            chain = partial(interceptor.intercept_unary_unary, chain)
        self._chain = chain

    async def __call__(
        self,
        request: Any,
        *,
        timeout: float | None = None,
        metadata: Any = None,
        credentials: grpc.CallCredentials | None = None,
        wait_for_ready: bool | None = None,
    ) -> Any:
        """Send ``request`` through the interceptors and return the response."""
        details = grpc.aio.ClientCallDetails(self._method, timeout, metadata, credentials, wait_for_ready)
        try:
            result = await self._chain(details, request)
            if isinstance(result, grpc.aio.Call):
                return await result  # type: ignore[misc]
        except (grpc.aio.UsageError, ValueError) as error:  # gRPC's answers to a call on a closed channel
            if self._state.closed:
                raise self._state.closed_error(self._method) from error
            raise
        return result


class InterceptedAioChannel:
    """Just enough of a grpc.aio channel for flyteidl's stubs, with every unary-unary method intercepted.

    Server-streaming methods (Flyte 2's watches) run through the interceptors that also handle streams; other call
    shapes are not offered.

    Args:
        channel: The underlying grpc.aio channel (owned by the caller, who closes it and then sets ``state.closed``).
        interceptors: grpc.aio unary-unary interceptors, outermost first.
        state: Shared with other views of the same channel.
    """

    def __init__(
        self,
        channel: grpc.aio.Channel,
        interceptors: Sequence[grpc.aio.UnaryUnaryClientInterceptor],
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
    ) -> InterceptedAioUnaryStream:
        """Return the intercepted server-streaming method (the signature the generated stubs call)."""
        multicallable = self._channel.unary_stream(
            method,
            request_serializer=request_serializer,
            response_deserializer=response_deserializer,
            _registered_method=_registered_method,  # type: ignore[call-arg]
        )
        streaming = [i for i in self._interceptors if isinstance(i, grpc.aio.UnaryStreamClientInterceptor)]
        return InterceptedAioUnaryStream(method, multicallable, streaming, self.state)


def intercept_aio_channel(
    channel: grpc.aio.Channel,
    *interceptors: grpc.aio.UnaryUnaryClientInterceptor,
    state: ChannelState | None = None,
) -> InterceptedAioChannel:
    """Wrap ``channel`` so stubs built on the result run ``interceptors`` (outermost first) on every unary call."""
    return InterceptedAioChannel(channel, interceptors, state)
