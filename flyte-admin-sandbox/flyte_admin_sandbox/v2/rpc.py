"""One dispatch path for both servers: faults, then the service method, with :class:`ServiceError` as the status.

A service is a plain object whose methods are named like the RPCs: ``CreateRun(request) -> response`` for unary
RPCs, ``WatchRuns(request, alive) -> Iterator[response]`` for server streams (``alive()`` turns false when the
client left). An RPC the object does not define answers UNIMPLEMENTED on both servers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import descriptor, message, message_factory

from flyte_admin_sandbox.faults import Fault, Faults
from flyte_admin_sandbox.v2.errors import ServiceError

log = logging.getLogger(__name__)

Unary = Callable[[message.Message], message.Message]
Stream = Callable[[message.Message, Callable[[], bool]], Iterator[message.Message]]


@dataclass(frozen=True)
class Method:
    """One RPC of one service, bound to its implementation.

    Attributes:
        service: The full service name (``flyteidl2.workflow.RunService``).
        name: The method name (``CreateRun``).
        request_type: The request message class.
        response_type: The response message class.
        streaming: Whether the server streams responses.
        function: The implementation (``Unary`` or ``Stream``).
        idempotency: The method's ``idempotency_level`` option (0 unknown, 1 no side effects, 2 idempotent).
    """

    service: str
    name: str
    request_type: type[message.Message]
    response_type: type[message.Message]
    streaming: bool
    function: Callable[..., Any]
    idempotency: int = 0

    @property
    def path(self) -> str:
        """``/service/method``."""
        return f"/{self.service}/{self.name}"


def bind(service: descriptor.ServiceDescriptor, implementation: object) -> list[Method]:
    """The methods of a service descriptor that ``implementation`` defines (the others stay UNIMPLEMENTED)."""
    methods = []
    for method in service.methods:
        function = getattr(implementation, method.name, None)
        if function is None:
            continue
        methods.append(
            Method(
                service=service.full_name,
                name=method.name,
                request_type=message_factory.GetMessageClass(method.input_type),
                response_type=message_factory.GetMessageClass(method.output_type),
                streaming=method.server_streaming,
                function=function,
                idempotency=method.GetOptions().idempotency_level,
            )
        )
    return methods


class Dispatcher:
    """Applies :class:`~flyte_admin_sandbox.faults.Faults` and calls implementations; thread safe.

    Args:
        faults: The rules in force (shared with :attr:`Flyte2Sandbox.faults`).
    """

    def __init__(self, faults: Faults) -> None:
        self.faults = faults

    def _before(self, rpc: str) -> list[Fault]:
        rules = self.faults.take(rpc)
        for rule in rules:
            if rule.latency:
                self.faults.sleep(rule.latency)
        failing = next((rule for rule in rules if rule.code is not None and not rule.after_commit), None)
        if failing is not None and failing.code is not None:
            self._record(rules, failing.code)
            raise ServiceError(failing.code, failing.message)
        return rules

    @staticmethod
    def _record(rules: list[Fault], code: grpc.StatusCode) -> None:
        for rule in rules:
            rule.record(code)

    def unary(self, method: Method, request: message.Message) -> message.Message:
        """Call a unary RPC under the faults in force.

        Raises:
            ServiceError: from a fault or the implementation (other exceptions become ``INTERNAL``).
        """
        rules = self._before(method.name)
        code = grpc.StatusCode.UNKNOWN
        try:
            response: message.Message = _guard(method, lambda: method.function(request))
            after = next((rule for rule in rules if rule.code is not None and rule.after_commit), None)
            if after is not None and after.code is not None:
                raise ServiceError(after.code, after.message)
            code = grpc.StatusCode.OK
            return response
        except ServiceError as error:
            code = error.code
            raise
        finally:
            self._record(rules, code)

    def stream(self, method: Method, request: message.Message, alive: Callable[[], bool]) -> Iterator[message.Message]:
        """Iterate a server-streaming RPC under the faults in force (a fault fails the stream before any message).

        Raises:
            ServiceError: from a fault or the implementation (other exceptions become ``INTERNAL``).
        """
        rules = self._before(method.name)
        self._record(rules, grpc.StatusCode.OK)
        iterator: Iterator[message.Message] = _guard(method, lambda: iter(method.function(request, alive)))
        while True:
            item = _guard(method, lambda: next(iterator, None))
            if item is None:
                return
            yield item


def _guard(method: Method, call: Callable[[], Any]) -> Any:
    try:
        return call()
    except ServiceError:
        raise
    except Exception as error:
        log.exception("%s failed", method.path)
        raise ServiceError(grpc.StatusCode.INTERNAL, f"{method.name}: {type(error).__name__}: {error}") from error
