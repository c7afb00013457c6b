"""A recording Flyte Admin for the friendly-client tests: real gRPC on loopback, canned answers.

Every RPC of AdminService, SignalService and DataProxyService is served from the services' descriptors: the
request is recorded, then the canned reply for that RPC is returned (an empty response message when none was set).
A reply may be a message, a function of the request, or a :class:`Failure` (the status the RPC aborts with).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass
from typing import Any

import grpc
from flyteidl.service import admin_pb2, dataproxy_pb2, signal_pb2
from google.protobuf import message_factory
from google.protobuf.message import Message

SERVICES = (
    admin_pb2.DESCRIPTOR.services_by_name["AdminService"],
    signal_pb2.DESCRIPTOR.services_by_name["SignalService"],
    dataproxy_pb2.DESCRIPTOR.services_by_name["DataProxyService"],
)


@dataclass(frozen=True)
class Failure:
    """Abort the RPC with this status."""

    code: grpc.StatusCode
    message: str = ""


Reply = Message | Failure | Callable[[Any], Message | Failure]


class RecordingServer:
    """The three services on ``127.0.0.1:<free port>``, recording ``(rpc, request)`` pairs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._replies: dict[str, Reply] = {}
        self.requests: list[tuple[str, Any]] = []
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        self._server.add_generic_rpc_handlers([self._handler(service) for service in SERVICES])
        self.port = self._server.add_insecure_port("127.0.0.1:0")
        self._server.start()

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        self._server.stop(grace=None)

    def reply(self, rpc: str, reply: Reply) -> None:
        """Answer every later call of ``rpc`` with ``reply``."""
        with self._lock:
            self._replies[rpc] = reply

    def calls(self, rpc: str | None = None) -> list[Any]:
        """The requests received for ``rpc`` (every ``(rpc, request)`` pair when ``rpc`` is None)."""
        with self._lock:
            if rpc is None:
                return list(self.requests)
            return [request for name, request in self.requests if name == rpc]

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()

    def _handler(self, service: Any) -> grpc.GenericRpcHandler:
        handlers = {}
        for method in service.methods:
            request_class = message_factory.GetMessageClass(method.input_type)
            response_class = message_factory.GetMessageClass(method.output_type)
            handlers[method.name] = grpc.unary_unary_rpc_method_handler(
                self._behaviour(method.name, response_class),
                request_deserializer=request_class.FromString,
                response_serializer=response_class.SerializeToString,
            )
        return grpc.method_handlers_generic_handler(service.full_name, handlers)

    def _behaviour(self, rpc: str, response_class: type[Message]) -> Callable[[Any, grpc.ServicerContext], Message]:
        def serve(request: Any, context: grpc.ServicerContext) -> Message:
            with self._lock:
                self.requests.append((rpc, request))
                reply = self._replies.get(rpc)
            if callable(reply) and not isinstance(reply, Message):
                reply = reply(request)
            if isinstance(reply, Failure):
                context.abort(reply.code, reply.message)
            return reply if reply is not None else response_class()

        return serve
