"""The Connect side: one connectrpc ASGI application over the bound service methods, under uvicorn in a thread.

The same HTTP server answers the sandbox's plain HTTP routes (signed blob URLs, the console) next to the RPCs, so
the console links the ``flyte`` SDK builds from the endpoint (``/v2/domain/...``) open.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import uvicorn
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from connectrpc.method import IdempotencyLevel, MethodInfo
from connectrpc.request import RequestContext
from connectrpc.server import ConnectASGIApplication, Endpoint
from google.protobuf import message

from flyte_admin_sandbox.v2.errors import ServiceError
from flyte_admin_sandbox.v2.rpc import Dispatcher, Method

ASGIApp = Callable[[dict[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]

_IDEMPOTENCY = {0: IdempotencyLevel.UNKNOWN, 1: IdempotencyLevel.NO_SIDE_EFFECTS, 2: IdempotencyLevel.IDEMPOTENT}


def connect_code(error: ServiceError) -> Code:
    """The Connect code of a gRPC status (``CANCELLED`` is spelled ``CANCELED``)."""
    name = "CANCELED" if error.code.name == "CANCELLED" else error.code.name
    return Code[name] if name in Code.__members__ else Code.UNKNOWN


class _Application(ConnectASGIApplication[object]):
    def __init__(self, endpoints: Mapping[str, Any]) -> None:
        super().__init__(service=object(), endpoints=lambda _service: endpoints)

    @property
    def path(self) -> str:
        return "/"


def application(dispatcher: Dispatcher, methods: list[Method], executor: ThreadPoolExecutor) -> ASGIApp:
    """The Connect ASGI application of every bound method (blocking calls run on ``executor``)."""

    def unary(method: Method) -> Callable[[message.Message, RequestContext[Any, Any]], Awaitable[message.Message]]:
        async def call(request: message.Message, _ctx: RequestContext[Any, Any]) -> message.Message:
            try:
                return await asyncio.get_running_loop().run_in_executor(executor, dispatcher.unary, method, request)
            except ServiceError as error:
                raise ConnectError(connect_code(error), error.message) from None

        return call

    def stream(method: Method) -> Callable[[message.Message, RequestContext[Any, Any]], AsyncIterator[message.Message]]:
        async def call(request: message.Message, _ctx: RequestContext[Any, Any]) -> AsyncIterator[message.Message]:
            alive = threading.Event()
            alive.set()
            iterator = dispatcher.stream(method, request, alive.is_set)
            loop = asyncio.get_running_loop()
            try:
                while (item := await loop.run_in_executor(executor, next, iterator, None)) is not None:
                    yield item
            except ServiceError as error:
                raise ConnectError(connect_code(error), error.message) from None
            finally:
                alive.clear()

        return call

    endpoints: dict[str, Any] = {}
    for method in methods:
        info = MethodInfo(
            name=method.name,
            service_name=method.service,
            input=method.request_type,
            output=method.response_type,
            idempotency_level=_IDEMPOTENCY.get(method.idempotency, IdempotencyLevel.UNKNOWN),
        )
        if method.streaming:
            endpoints[method.path] = Endpoint.server_stream(method=info, function=stream(method))
        else:
            endpoints[method.path] = Endpoint.unary(method=info, function=unary(method))
    return _Application(endpoints)  # type: ignore[return-value]


def router(rpc: ASGIApp, web: ASGIApp, web_prefixes: tuple[str, ...]) -> ASGIApp:
    """An ASGI app sending ``web_prefixes`` (and ``/``) to ``web``, everything else to ``rpc``."""

    async def route(
        scope: dict[str, Any], receive: Callable[[], Awaitable[Any]], send: Callable[[Any], Awaitable[None]]
    ) -> None:
        path = scope.get("path", "")
        if scope.get("type") == "http" and (path == "/" or path.startswith(web_prefixes)):
            await web(scope, receive, send)
        else:
            await rpc(scope, receive, send)

    return route


class UvicornThread:
    """uvicorn serving an ASGI app on a socket bound at construction (so port ``0`` is known at once).

    Args:
        app: The ASGI application.
        host: The interface to bind.
        port: The port; ``0`` picks a free one.
    """

    def __init__(self, app: ASGIApp, host: str, port: int) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.host = host
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(
            app, lifespan="off", log_level="warning", http="h11", ws="none", access_log=False, timeout_keep_alive=30
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="flyte2-sandbox-connect", daemon=True
        )

    def start(self, timeout: float = 5.0) -> None:
        """Serve in a thread; return once accepting connections."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the Connect server did not start on {self.host}:{self.port}")
            time.sleep(0.005)

    def stop(self, timeout: float = 0.5) -> None:
        """Stop serving (cutting open streams after a short grace) and release the port."""
        if self._thread.ident is None:
            self._socket.close()
            return
        self._server.should_exit = True
        self._thread.join(timeout / 2)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(timeout / 2)
        self._socket.close()
