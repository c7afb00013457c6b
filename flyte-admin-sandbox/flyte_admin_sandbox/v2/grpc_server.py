"""The grpcio side: generic handlers over the bound service methods (what the provider's gRPC client talks to)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import grpc
from google.protobuf import message

from flyte_admin_sandbox.v2.errors import ServiceError
from flyte_admin_sandbox.v2.rpc import Dispatcher, Method


def _unary(dispatcher: Dispatcher, method: Method) -> Callable[[message.Message, grpc.ServicerContext], Any]:
    def handle(request: message.Message, context: grpc.ServicerContext) -> message.Message:
        try:
            return dispatcher.unary(method, request)
        except ServiceError as error:
            context.abort(error.code, error.message)

    return handle


def _stream(dispatcher: Dispatcher, method: Method) -> Callable[[message.Message, grpc.ServicerContext], Any]:
    def handle(request: message.Message, context: grpc.ServicerContext) -> Iterator[message.Message]:
        try:
            yield from dispatcher.stream(method, request, context.is_active)
        except ServiceError as error:
            context.abort(error.code, error.message)

    return handle


def handlers(dispatcher: Dispatcher, methods: list[Method]) -> list[grpc.GenericRpcHandler]:
    """One generic handler per service; RPCs without an implementation answer UNIMPLEMENTED."""
    by_service: dict[str, dict[str, grpc.RpcMethodHandler[Any, Any]]] = {}
    for method in methods:
        options: dict[str, Any] = {
            "request_deserializer": method.request_type.FromString,
            "response_serializer": method.response_type.SerializeToString,
        }
        if method.streaming:
            handler = grpc.unary_stream_rpc_method_handler(_stream(dispatcher, method), **options)
        else:
            handler = grpc.unary_unary_rpc_method_handler(_unary(dispatcher, method), **options)
        by_service.setdefault(method.service, {})[method.name] = handler
    return [grpc.method_handlers_generic_handler(service, table) for service, table in by_service.items()]
