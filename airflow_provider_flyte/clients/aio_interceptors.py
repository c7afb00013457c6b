"""grpc.aio twins of :mod:`.interceptors`: the same concerns and decisions, the asyncio calling convention.

Each class delegates every decision to the object its sync twin uses (:class:`~.interceptors.DefaultMetadata`,
:class:`~.auth.token_source.TokenSource`, :class:`~.policy.RetryPolicy`); only awaiting differs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import grpc
import grpc.aio

from airflow_provider_flyte.clients.interceptors import DefaultMetadata, Metadata

if TYPE_CHECKING:
    from airflow_provider_flyte.clients.auth.token_source import TokenSource
    from airflow_provider_flyte.clients.policy import RetryPolicy, RpcPlan

AsyncContinuation = Callable[[grpc.aio.ClientCallDetails, Any], Awaitable[Any]]

_UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED


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
    """Adds a token's header; for unary calls refreshes it once and re-sends on UNAUTHENTICATED.

    The token fetch never blocks the event loop: :class:`~.auth.token_source.TokenSource` runs it in a worker thread.
    """

    def __init__(self, token_source: TokenSource) -> None:
        self._source = token_source

    async def intercept_unary_unary(
        self, continuation: AsyncContinuation, client_call_details: grpc.aio.ClientCallDetails, request: Any
    ) -> Any:
        """Send the call with the current token; on UNAUTHENTICATED refresh it (once across callers) and re-send."""
        source = self._source
        sent = await source.metadata_async()
        call = await continuation(with_metadata(client_call_details, sent), request)
        if source.can_refresh and await call.code() is _UNAUTHENTICATED:
            fresh = await source.refreshed_metadata_async(sent)
            call = await continuation(with_metadata(client_call_details, fresh), request)
        return call

    async def intercept_unary_stream(
        self, continuation: AsyncContinuation, client_call_details: grpc.aio.ClientCallDetails, request: Any
    ) -> Any:
        """Send the streaming call with the current token (a stream is not re-sent)."""
        return await continuation(with_metadata(client_call_details, await self._source.metadata_async()), request)


class AsyncRetryInterceptor(grpc.aio.UnaryUnaryClientInterceptor):
    """Applies the per-attempt deadline, retries transient failures and raises our exceptions."""

    def __init__(self, policy: RetryPolicy) -> None:
        self._policy = policy

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
