"""Fault injection for reliability tests: failing, slow or half-done RPCs, as a gRPC server interceptor.

Use it through :attr:`FlyteSandbox.faults <flyte_admin_sandbox.server.FlyteSandbox.faults>`::

    sandbox.faults.fail("GetExecution", grpc.StatusCode.UNAVAILABLE, times=2)   # the next two calls fail
    sandbox.faults.fail(None, grpc.StatusCode.UNAVAILABLE, seconds=1.5)         # every RPC, for 1.5 s
    sandbox.faults.delay("ListExecutions", seconds=0.2)                          # added latency
    sandbox.faults.fail_after_commit("CreateExecution")   # stored, yet the client sees UNAVAILABLE
    sandbox.faults.commit_late("CreateExecution", seconds=2)   # stored after the client's deadline
    sandbox.faults.clear()

RPC names may be short (``GetExecution``) or full (``/flyteidl.service.AdminService/GetExecution``).

A call's handler runs to its end once gRPC Python has read the request, whatever happens to the client: after
the client's deadline (``context.is_active()`` turns false, the response or status is dropped silently) and after
the server stopped (:meth:`FlyteSandbox.outage <flyte_admin_sandbox.server.FlyteSandbox.outage>`). So
a delayed call takes effect late: the worst case of a slow Flyte Admin. A call whose client gave up before a worker
thread picked it up never reaches the handler. Delayed calls hold a worker thread each (``max_workers``, 16 by
default).
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
        hits: Calls the rule applied to so far.
        outcomes: The status each of those calls ended with (``OK`` included), in the order they ended; a call
            whose client gave up still ends, so this tells whether a late request took effect.
    """

    rpc: str | None
    code: grpc.StatusCode | None = None
    message: str = "injected fault"
    remaining: int | None = None
    deadline: float | None = None
    latency: float = 0.0
    after_commit: bool = False
    hits: int = field(default=0)
    outcomes: list[grpc.StatusCode] = field(default_factory=list)
    _ended: threading.Condition = field(default_factory=threading.Condition, init=False, repr=False, compare=False)

    def matches(self, rpc: str, moment: float) -> bool:
        """Whether this rule applies to a call of ``rpc`` now."""
        if self.deadline is not None and moment > self.deadline:
            return False
        if self.remaining is not None and self.remaining <= 0:
            return False
        return self.rpc is None or self.rpc == rpc

    def record(self, code: grpc.StatusCode) -> None:
        """Note that one call this rule applied to ended with ``code``."""
        with self._ended:
            self.outcomes.append(code)
            self._ended.notify_all()

    def wait(self, calls: int = 1, timeout: float | None = None) -> list[grpc.StatusCode]:
        """Block until ``calls`` calls this rule applied to have ended (their handlers returned).

        Args:
            calls: How many ended calls to wait for.
            timeout: Seconds to wait at most; ``None`` waits for ever.

        Returns:
            :attr:`outcomes` (a copy).

        Raises:
            TimeoutError: when fewer calls ended in time.
        """
        with self._ended:
            if not self._ended.wait_for(lambda: len(self.outcomes) >= calls, timeout):
                raise TimeoutError(f"{len(self.outcomes)} of {calls} calls of {self.rpc} ended in time")
            return list(self.outcomes)


def _short(rpc: str | None) -> str | None:
    return rpc.rsplit("/", 1)[-1] if rpc else None


class Faults:
    """The rules in force; thread safe."""

    def __init__(self) -> None:
        self._rules: list[Fault] = []
        self._lock = threading.Lock()
        self._released = threading.Event()

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
        """Add ``seconds`` of latency to calls of ``rpc`` (``None``: any RPC), for ``times`` calls or ``duration`` s.

        A call is applied after its latency even when its client gave up meanwhile (see :meth:`commit_late`).
        """
        deadline = time.monotonic() + duration if duration is not None else None
        return self.add(Fault(rpc, None, remaining=times, deadline=deadline, latency=seconds))

    def fail_after_commit(
        self, rpc: str = "CreateExecution", *, times: int = 1, code: grpc.StatusCode = grpc.StatusCode.UNAVAILABLE
    ) -> Fault:
        """Let the next ``times`` calls of ``rpc`` take effect, then answer them with ``code``."""
        return self.add(
            Fault(rpc, code, "injected fault after the request was applied", remaining=times, after_commit=True)
        )

    def commit_late(self, rpc: str = "CreateExecution", *, seconds: float, times: int = 1) -> Fault:
        """Hold the next ``times`` calls of ``rpc`` for ``seconds``, then apply them: a slow Flyte Admin.

        With ``seconds`` beyond the client's per-attempt timeout the client sees ``DEADLINE_EXCEEDED``, yet the
        request takes effect afterwards (the handler still runs; its answer is dropped). A retry made meanwhile is
        not held: the first to commit wins and the other gets ``ALREADY_EXISTS``. :meth:`Fault.wait` returns once
        the late call ended, with its status in :attr:`Fault.outcomes`.

        Args:
            rpc: The RPC to hold.
            seconds: How long each call waits before it is applied.
            times: How many calls to hold.

        Returns:
            The rule (its :meth:`~Fault.wait` tells when the late calls were applied).
        """
        return self.add(Fault(rpc, None, remaining=times, latency=seconds))

    def release(self) -> None:
        """End every injected latency now, for good (the sandbox is closing): held calls proceed at once."""
        self._released.set()

    def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` unless :meth:`release` is (or was) called."""
        self._released.wait(seconds)

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._rules.clear()

    def take(self, rpc: str) -> list[Fault]:
        """The rules applying to one call of ``rpc`` (counting the call against them)."""
        if not self._rules:  # the usual case, and every call asks: no lock
            return []
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
        # The wrapped handler of each method, reused while the inner handler is the same object (it is, unless
        # an interceptor after this one makes a handler per call).
        self._wrapped: dict[str, tuple[grpc.RpcMethodHandler[Any, Any], grpc.RpcMethodHandler[Any, Any]]] = {}

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler[Any, Any] | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        """Wrap the unary handler of each call."""
        handler = continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        method = handler_call_details.method
        known = self._wrapped.get(method)
        if known is not None and known[0] is handler:
            return known[1]
        wrapped = self._wrap(handler, handler.unary_unary, _short(method) or "")
        self._wrapped[method] = (handler, wrapped)
        return wrapped

    def _wrap(
        self,
        handler: grpc.RpcMethodHandler[Any, Any],
        inner: Callable[[Any, grpc.ServicerContext], Any],
        rpc: str,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        faults = self.faults

        def faulty(request: Any, context: grpc.ServicerContext) -> Any:
            rules = faults.take(rpc)
            if not rules:
                return inner(request, context)
            code = grpc.StatusCode.UNKNOWN
            try:
                response = _apply(rules, inner, request, context, faults)
                code = grpc.StatusCode.OK
                return response
            except Exception:
                code = context.code() or code  # type: ignore[attr-defined]  # set by abort; not in the stubs
                raise
            finally:
                for rule in rules:
                    rule.record(code)

        return grpc.unary_unary_rpc_method_handler(
            faulty,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def _apply(
    rules: list[Fault],
    inner: Callable[[Any, grpc.ServicerContext], Any],
    request: Any,
    context: grpc.ServicerContext,
    faults: Faults,
) -> Any:
    """Handle one call under ``rules``: latency, then a failure before or after the handler runs."""
    for rule in rules:
        if rule.latency:
            faults.sleep(rule.latency)  # the client may give up meanwhile: apply the call anyway (worst case)
    before = next((rule for rule in rules if rule.code is not None and not rule.after_commit), None)
    if before is not None:
        context.abort(before.code, before.message)  # type: ignore[arg-type]
    response = inner(request, context)
    after = next((rule for rule in rules if rule.code is not None and rule.after_commit), None)
    if after is not None:
        context.abort(after.code, after.message)  # type: ignore[arg-type]
    return response
