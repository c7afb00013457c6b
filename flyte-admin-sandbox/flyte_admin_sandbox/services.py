"""gRPC wiring: each service's RPCs are routed by name to the methods of the objects that implement them.

Request and response classes come from the service descriptors in ``flyteidl``, so every RPC of a service is
registered: the ones without an implementation answer ``UNIMPLEMENTED``, as a server built from the generated base
classes would.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import grpc
from google.protobuf import message_factory
from google.protobuf.descriptor import ServiceDescriptor
from google.rpc import status_pb2  # type: ignore[import-untyped]

from flyte_admin_sandbox.errors import AdminError

log = logging.getLogger(__name__)


def _abort(context: grpc.ServicerContext, error: AdminError) -> None:
    if error.detail is not None:
        status = status_pb2.Status(code=error.code.value[0], message=error.message)
        status.details.add().Pack(error.detail)
        context.set_trailing_metadata((("grpc-status-details-bin", status.SerializeToString()),))
    context.abort(error.code, error.message)


class CallActivity:
    """When the gRPC API last began or ended a call: the engine gives way to an API that is serving calls."""

    __slots__ = ("last",)

    def __init__(self) -> None:
        self.last = float("-inf")

    def touch(self) -> None:
        """Note that a call begins or ends now."""
        self.last = time.monotonic()

    def idle_for(self) -> float:
        """Seconds since a call last began or ended."""
        return time.monotonic() - self.last


def _behavior(
    method: Callable[[Any], Any], rpc: str, activity: CallActivity | None
) -> Callable[[Any, grpc.ServicerContext], Any]:
    def handle(request: Any, context: grpc.ServicerContext) -> Any:
        if activity is not None:
            activity.touch()
        try:
            return method(request)
        except AdminError as error:
            log.debug("%s -> %s %s", rpc, error.code.name, error.message)
            _abort(context, error)
        except Exception as error:
            log.exception("%s failed", rpc)
            context.abort(grpc.StatusCode.INTERNAL, f"{type(error).__name__}: {error}")
        finally:
            if activity is not None:
                activity.touch()
        return None  # pragma: no cover - abort raises

    return handle


def _unimplemented(rpc: str) -> Callable[[Any, grpc.ServicerContext], Any]:
    def handle(request: Any, context: grpc.ServicerContext) -> Any:
        context.abort(grpc.StatusCode.UNIMPLEMENTED, f"Method {rpc} not implemented")

    return handle


def service_handler(
    service: ServiceDescriptor, implementations: Sequence[object], activity: CallActivity | None = None
) -> grpc.GenericRpcHandler:
    """A handler serving every RPC of ``service`` from the first implementation that has a method of that name.

    Args:
        service: The service descriptor, e.g. ``admin_pb2.DESCRIPTOR.services_by_name["AdminService"]``.
        implementations: Objects with methods named like the RPCs, taking the request and returning the response.
        activity: Told when each implemented call begins and ends.
    """
    handlers = {}
    for method in service.methods:
        request_class = message_factory.GetMessageClass(method.input_type)
        response_class = message_factory.GetMessageClass(method.output_type)
        rpc = f"/{service.full_name}/{method.name}"
        target = next((getattr(impl, method.name) for impl in implementations if hasattr(impl, method.name)), None)
        behavior = _behavior(target, rpc, activity) if target is not None else _unimplemented(rpc)
        handlers[method.name] = grpc.unary_unary_rpc_method_handler(
            behavior,
            request_deserializer=request_class.FromString,
            response_serializer=response_class.SerializeToString,
        )
    return grpc.method_handlers_generic_handler(service.full_name, handlers)
