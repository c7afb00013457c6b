"""Raw Flyte 2 clients: one channel, the ``flyteidl2`` service stubs, and the interceptor stack of the v1 client.

``raw.run_service.GetRunDetails(request)`` takes and returns ``flyteidl2`` messages; the interceptors of
:mod:`airflow_provider_flyte.clients.interceptors` add the default metadata and the token, apply the per-attempt
deadline, retry transient failures per :class:`~airflow_provider_flyte.clients.policy.RetryPolicy` and raise
:mod:`airflow_provider_flyte.exceptions`. Server streams (``WatchRunDetails``, ``WatchRuns``) get the metadata, the
token and the error mapping; :meth:`RawFlyte2Client.follow` re-opens them after a cut.

The transport is gRPC (HTTP/2, plain text or TLS), which the Flyte 2 backend serves next to Connect and gRPC-Web on
the same port. Auth is the v1 client's: the same token sources, with the header key advertised by
``flyteidl2.auth.AuthMetadataService``, plus ``auth_mode="api_key"``
(:mod:`~airflow_provider_flyte.clients.auth.api_key`).

A run created with a name is retried like a named v1 execution: on UNAVAILABLE, RESOURCE_EXHAUSTED,
DEADLINE_EXCEEDED and CANCELLED, ALREADY_EXISTS on a retry meaning the earlier attempt created it. A run without a
name (the server picks one) is never retried.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any

import grpc
from flyteidl2.auth import auth_service_pb2, auth_service_pb2_grpc, identity_pb2_grpc
from flyteidl2.common import identifier_pb2
from flyteidl2.dataproxy import dataproxy_service_pb2_grpc
from flyteidl2.project import project_service_pb2_grpc
from flyteidl2.task import task_service_pb2_grpc
from flyteidl2.trigger import trigger_service_pb2_grpc
from flyteidl2.workflow import run_definition_pb2, run_service_pb2, run_service_pb2_grpc

from airflow_provider_flyte.clients import aio_interceptors
from airflow_provider_flyte.clients.auth.server_metadata import AuthMetadataApi
from airflow_provider_flyte.clients.channel import ChannelOptions, create_aio_channel, create_channel
from airflow_provider_flyte.clients.interceptors import (
    AuthInterceptor,
    ChannelState,
    DefaultMetadata,
    DefaultMetadataInterceptor,
    RetryInterceptor,
    intercept_channel,
)
from airflow_provider_flyte.clients.policy import NamedCreate, RetryPolicy
from airflow_provider_flyte.clients.raw import _UNSET, _token_sources
from airflow_provider_flyte.clients.v2._streams import ItemT, Resume, Stream
from airflow_provider_flyte.exceptions import FlyteException

if TYPE_CHECKING:
    from airflow_provider_flyte.clients.auth.token_source import TokenSource
    from airflow_provider_flyte.configuration import PlatformConfig

log = logging.getLogger(__name__)


ROOT_ACTION = "a0"
"""The name of a run's root action, whose phase, inputs and outputs are the run's."""

FLYTE2_AUTH_METADATA = AuthMetadataApi(
    auth_service_pb2_grpc.AuthMetadataServiceStub,
    auth_service_pb2.GetPublicClientConfigRequest,
    auth_service_pb2.GetOAuth2MetadataRequest,
)
"""Flyte 2's ``flyteidl2.auth.AuthMetadataService``, which advertises the token's header key."""


def _run_name(request: run_service_pb2.CreateRunRequest) -> str:
    return request.run_id.name if request.WhichOneof("id") == "run_id" else ""


def _created_run(request: run_service_pb2.CreateRunRequest) -> run_service_pb2.CreateRunResponse:
    action_id = identifier_pb2.ActionIdentifier(run=request.run_id, name=ROOT_ACTION)
    return run_service_pb2.CreateRunResponse(run=run_definition_pb2.Run(action=run_definition_pb2.Action(id=action_id)))


CREATE_RUN = NamedCreate(name_of=_run_name, recovered=_created_run)
"""``CreateRun`` with ``run_id`` set is a named create (see the module docstring)."""


def flyte2_retry_policy(config: PlatformConfig, **overrides: Any) -> RetryPolicy:
    """The retry policy for a Flyte 2 client: ``config``'s settings, ``CreateRun`` as a named create."""
    return RetryPolicy.from_config(config, named_creates={"CreateRun": CREATE_RUN}, **overrides)


def _stub(stub_class: Any, channel: Any) -> Any:
    """Build a generated stub (the ``*_pb2_grpc`` modules carry no type hints)."""
    return stub_class(channel)


class _Stubs:
    """The service stubs and lifecycle the sync and the asyncio raw clients share."""

    config: PlatformConfig
    retry_policy: RetryPolicy
    token_source: TokenSource | None
    proxy_token_source: TokenSource | None

    def _setup(
        self,
        config: PlatformConfig,
        token_source: TokenSource | None,
        proxy_token_source: TokenSource | None,
        retry_policy: RetryPolicy | None,
    ) -> None:
        self.config = config
        self.retry_policy = retry_policy or flyte2_retry_policy(config)
        self.token_source, self.proxy_token_source = _token_sources(
            config, token_source, proxy_token_source, FLYTE2_AUTH_METADATA
        )
        self._state = ChannelState()

    def _attach(self, authenticated: Any, public: Any) -> None:
        self.run_service = _stub(run_service_pb2_grpc.RunServiceStub, authenticated)
        self.task_service = _stub(task_service_pb2_grpc.TaskServiceStub, authenticated)
        self.data_proxy_service = _stub(dataproxy_service_pb2_grpc.DataProxyServiceStub, authenticated)
        self.trigger_service = _stub(trigger_service_pb2_grpc.TriggerServiceStub, authenticated)
        self.project_service = _stub(project_service_pb2_grpc.ProjectServiceStub, authenticated)
        self.identity_service = _stub(identity_pb2_grpc.IdentityServiceStub, authenticated)
        self.auth_metadata_service = _stub(auth_service_pb2_grpc.AuthMetadataServiceStub, public)

    def _resume(self) -> Resume:
        policy = self.retry_policy
        return Resume(self.config.outage_tolerance, policy.initial_backoff, policy.max_backoff)

    def _reconnect_delay(self, resume: Resume, error: FlyteException | None, stream: Stream[Any]) -> float:
        """The sleep before re-opening ``stream`` (``0`` after dropping a refused token); raises when final."""
        if resume.wants_token_refresh(error) and self.token_source is not None:
            self.token_source.invalidate()
            return 0.0
        delay = resume.reconnect_delay(error, stream.method)
        log.info("Re-opening %s after %s in %.2fs", stream.method, error.code if error else "the stream ended", delay)
        return delay

    def __repr__(self) -> str:
        return f"{type(self).__name__}(endpoint={self.config.endpoint!r}, auth_mode={self.config.auth_mode.value!r})"


class RawFlyte2Client(_Stubs):
    """Sync gRPC stubs for the Flyte 2 services with auth, retries, deadlines and exception mapping.

    Args:
        config: Where and how to connect (``backend`` is not read: this client always speaks Flyte 2).
        credentials: TLS credentials overriding the ones derived from ``config``.
        options: Extra gRPC channel arguments.
        token_source: The bearer token source; built from ``config.auth_mode`` when not given, ``None`` for none.
        proxy_token_source: The ``proxy-authorization`` source; built from ``config.proxy_command`` when not given.
        retry_policy: Overrides :func:`flyte2_retry_policy` of ``config``.

    Attributes:
        run_service: ``flyteidl2.workflow.RunService`` stub.
        task_service: ``flyteidl2.task.TaskService`` stub.
        data_proxy_service: ``flyteidl2.dataproxy.DataProxyService`` stub.
        trigger_service: ``flyteidl2.trigger.TriggerService`` stub.
        project_service: ``flyteidl2.project.ProjectService`` stub.
        identity_service: ``flyteidl2.auth.IdentityService`` stub.
        auth_metadata_service: ``flyteidl2.auth.AuthMetadataService`` stub (no token attached).
    """

    def __init__(
        self,
        config: PlatformConfig,
        *,
        credentials: grpc.ChannelCredentials | None = None,
        options: ChannelOptions | None = None,
        token_source: TokenSource | None = _UNSET,
        proxy_token_source: TokenSource | None = _UNSET,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        self._setup(config, token_source, proxy_token_source, retry_policy)
        self._channel = create_channel(config, credentials=credentials, options=options)
        retry = RetryInterceptor(self.retry_policy)
        defaults = DefaultMetadataInterceptor(DefaultMetadata())
        proxy = [AuthInterceptor(self.proxy_token_source)] if self.proxy_token_source is not None else []
        bearer = [AuthInterceptor(self.token_source)] if self.token_source is not None else []
        authenticated = intercept_channel(self._channel, retry, *bearer, *proxy, defaults, state=self._state)
        public = intercept_channel(self._channel, retry, *proxy, defaults, state=self._state)
        self._attach(authenticated, public)

    def follow(self, stream: Stream[ItemT]) -> Iterator[ItemT]:
        """Yield the items of a server stream, re-opening it after cuts and skipping states already yielded.

        Ends after an item for which ``stream.done`` is true, or when the caller stops iterating (the call is then
        cancelled).

        Raises:
            FlyteException: a failure that is not a cut, or a cut that outlasts ``outage_tolerance``.
        """
        resume = self._resume()
        rpc = getattr(getattr(self, stream.service), stream.method)
        while True:
            error: FlyteException | None = None
            call = rpc(stream.request)
            try:
                for response in call:
                    resume.received()
                    for item in stream.items(response):
                        if resume.fresh(stream.key(item), item):
                            yield item
                        if stream.done(item):
                            return
            except FlyteException as failure:
                error = failure
            finally:
                call.cancel()
            time.sleep(self._reconnect_delay(resume, error, stream))

    def close(self) -> None:
        """Close the channel; calls in flight are cancelled and later calls raise ``FlyteSystemException``."""
        self._state.closed = True
        self._channel.close()

    def __enter__(self) -> RawFlyte2Client:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class RawAsyncFlyte2Client(_Stubs):
    """The grpc.aio twin of :class:`RawFlyte2Client`; create it inside the event loop that uses it.

    Takes the same arguments and exposes the same stubs; unary methods return coroutines, streaming methods async
    iterators, and :meth:`follow` is an async iterator.

    Raises:
        RuntimeError: when created outside a running event loop.
    """

    def __init__(
        self,
        config: PlatformConfig,
        *,
        credentials: grpc.ChannelCredentials | None = None,
        options: ChannelOptions | None = None,
        token_source: TokenSource | None = _UNSET,
        proxy_token_source: TokenSource | None = _UNSET,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        asyncio.get_running_loop()  # grpc.aio binds the channel to the loop it is created in
        self._setup(config, token_source, proxy_token_source, retry_policy)
        retry = aio_interceptors.AsyncRetryInterceptor(self.retry_policy)
        defaults = aio_interceptors.AsyncDefaultMetadataInterceptor(DefaultMetadata())
        proxy_source, bearer_source = self.proxy_token_source, self.token_source
        proxy = [aio_interceptors.AsyncAuthInterceptor(proxy_source)] if proxy_source is not None else []
        bearer = [aio_interceptors.AsyncAuthInterceptor(bearer_source)] if bearer_source is not None else []
        self._channel = create_aio_channel(config, credentials=credentials, options=options)
        authenticated = aio_interceptors.intercept_aio_channel(
            self._channel, retry, *bearer, *proxy, defaults, state=self._state
        )
        public = aio_interceptors.intercept_aio_channel(self._channel, retry, *proxy, defaults, state=self._state)
        self._attach(authenticated, public)

    async def follow(self, stream: Stream[ItemT]) -> AsyncIterator[ItemT]:
        """The asyncio twin of :meth:`RawFlyte2Client.follow` (same resume, budget and backoff decisions)."""
        resume = self._resume()
        rpc = getattr(getattr(self, stream.service), stream.method)
        while True:
            error: FlyteException | None = None
            responses = rpc(stream.request)
            try:
                async for response in responses:
                    resume.received()
                    for item in stream.items(response):
                        if resume.fresh(stream.key(item), item):
                            yield item
                        if stream.done(item):
                            return
            except FlyteException as failure:
                error = failure
            finally:
                await responses.aclose()
            await asyncio.sleep(self._reconnect_delay(resume, error, stream))

    async def close(self) -> None:
        """Close the channel; calls in flight are cancelled and later calls raise ``FlyteSystemException``."""
        self._state.closed = True
        await self._channel.close()

    async def __aenter__(self) -> RawAsyncFlyte2Client:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
