"""Fault injection for reliability tests: failing, slow or half-done RPCs, as a gRPC server interceptor.

Use it through :attr:`FlyteSandbox.faults <airflow_provider_flyte.sandbox.server.FlyteSandbox.faults>`::

    sandbox.faults.fail("GetExecution", grpc.StatusCode.UNAVAILABLE, times=2)   # the next two calls fail
    sandbox.faults.fail(None, grpc.StatusCode.UNAVAILABLE, seconds=1.5)         # every RPC, for 1.5 s
    sandbox.faults.delay("ListExecutions", seconds=0.2)                          # added latency
    sandbox.faults.fail_after_commit("CreateExecution")   # stored, yet the client sees UNAVAILABLE
    sandbox.faults.clear()

RPC names may be short (``GetExecution``) or full (``/flyteidl.service.AdminService/GetExecution``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import grpc


@dataclass
class Fault:
    """One rule.

    Attributes:
        rpc: The short RPC name it applies to, or ``None`` for every RPC.
        code: The status to fail with (``None`` for latency only).
        message: The status message.
        remaining: Calls left to affect, or ``None`` for unlimited (until ``deadline``).
        deadline: ``time.monotonic()`` after which the rule no longer applies, or ``None``.
        latency: Seconds to sleep before handling the call.
        after_commit: Run the handler first, then fail (the effect happens, the client sees an error).
    """

    rpc: str | None
    code: grpc.StatusCode | None = None
    message: str = "injected fault"
    remaining: int | None = None
    deadline: float | None = None
    latency: float = 0.0
    after_commit: bool = False
    hits: int = field(default=0)

    def matches(self, rpc: str, moment: float) -> bool:
        """Whether this rule applies to a call of ``rpc`` now."""
        if self.deadline is not None and moment > self.deadline:
            return False
        if self.remaining is not None and self.remaining <= 0:
            return False
        return self.rpc is None or self.rpc == rpc


def _short(rpc: str | None) -> str | None:
    return rpc.rsplit("/", 1)[-1] if rpc else None


class Faults:
    """The rules in force; thread safe."""

    def __init__(self) -> None:
        self._rules: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> Fault:
        """Install a rule (rules are tried in the order they were added)."""
        fault.rpc = _short(fault.rpc)
        with self._lock:
            self._rules.append(fault)
        return fault

    def fail(
        self,
        rpc: str | None,
        code: grpc.StatusCode,
        *,
        times: int | None = 1,
        seconds: float | None = None,
        message: str = "injected fault",
    ) -> Fault:
        """Fail the next ``times`` calls of ``rpc`` (``None``: any RPC) with ``code``, or all calls for ``seconds``."""
        deadline = time.monotonic() + seconds if seconds is not None else None
        return self.add(Fault(rpc, code, message, remaining=None if seconds is not None else times, deadline=deadline))

    def delay(
        self, rpc: str | None, seconds: float, *, times: int | None = None, duration: float | None = None
    ) -> Fault:
        """Add ``seconds`` of latency to calls of ``rpc`` (``None``: any RPC)."""
        deadline = time.monotonic() + duration if duration is not None else None
        return self.add(Fault(rpc, None, remaining=times, deadline=deadline, latency=seconds))

    def fail_after_commit(
        self, rpc: str = "CreateExecution", *, times: int = 1, code: grpc.StatusCode = grpc.StatusCode.UNAVAILABLE
    ) -> Fault:
        """Let the next ``times`` calls of ``rpc`` take effect, then answer them with ``code``."""
        return self.add(
            Fault(rpc, code, "injected fault after the request was applied", remaining=times, after_commit=True)
        )

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._rules.clear()

    def take(self, rpc: str) -> list[Fault]:
        """The rules applying to one call of ``rpc`` (counting the call against them)."""
        moment = time.monotonic()
        with self._lock:
            self._rules = [rule for rule in self._rules if rule.deadline is None or rule.deadline >= moment]
            chosen = []
            for rule in self._rules:
                if rule.matches(rpc, moment):
                    if rule.remaining is not None:
                        rule.remaining -= 1
                    rule.hits += 1
                    chosen.append(rule)
            return chosen


class FaultInterceptor(grpc.ServerInterceptor):
    """Applies :class:`Faults` to every unary RPC."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler[Any, Any] | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        """Wrap the unary handler of each call."""
        handler = continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        inner = handler.unary_unary
        rpc = _short(handler_call_details.method) or ""
        faults = self.faults

        def faulty(request: Any, context: grpc.ServicerContext) -> Any:
            rules = faults.take(rpc)
            for rule in rules:
                if rule.latency:
                    time.sleep(rule.latency)
            before = next((rule for rule in rules if rule.code is not None and not rule.after_commit), None)
            if before is not None:
                context.abort(before.code, before.message)  # type: ignore[arg-type]
            response = inner(request, context)
            after = next((rule for rule in rules if rule.code is not None and rule.after_commit), None)
            if after is not None:
                context.abort(after.code, after.message)  # type: ignore[arg-type]
            return response

        return grpc.unary_unary_rpc_method_handler(
            faulty,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
