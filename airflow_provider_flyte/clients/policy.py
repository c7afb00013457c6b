"""The one retry, deadline and error policy shared by the sync and the asyncio interceptors.

Which RPC is retried on which status code:

===========================================================  ===========  ==================  =================
RPC                                                          UNAVAILABLE  RESOURCE_EXHAUSTED  DEADLINE_EXCEEDED
                                                                                              and CANCELLED
===========================================================  ===========  ==================  =================
Reads: ``Get*``, ``List*``, ``UserInfo``                     retried      retried             retried
``CreateExecution`` / ``RelaunchExecution`` /
``RecoverExecution`` with ``request.name`` set               retried      retried             retried
the same three without a name                                not retried  not retried         not retried
Other writes (``Create{Task,Workflow,LaunchPlan}``,
``Update*``, ``Terminate*``, ``SetSignal``, events...)       retried      retried             not retried
===========================================================  ===========  ==================  =================

CANCELLED reaches a client that cancelled nothing when the server gave up on the call, as gRPC servers do with the
calls in flight when they stop (an Admin restart): like DEADLINE_EXCEEDED, the request may have been applied.

Why writes are safe to retry on those codes: registering an identical task, workflow or launch plan again answers
ALREADY_EXISTS (which callers already treat as success), updates set a state rather than change it by a delta, and
RESOURCE_EXHAUSTED means the server refused the request. A DEADLINE_EXCEEDED write may have been applied (a slow
Admin finishes the request after the client gave up), so other writes do not retry it. A named execution create
does, on all three codes: the name makes the retry land on the same execution, and ALREADY_EXISTS after a retry then
means *our* earlier attempt got through, so the call returns an ``ExecutionCreateResponse`` built from the request
instead of failing. Without a name the server would pick a new one per attempt and a retry could start the workflow
twice, so unnamed creates are never retried.

Backoff is exponential with full jitter (a uniform draw between 0 and ``initial * 2**(attempt-1)``, capped at
``retry_max_backoff``), for at most ``rpc_retries`` retries (3 by default, flytekit's default: 4 attempts in all) and
``retry_total_timeout`` seconds overall. Each attempt gets the call's own ``timeout`` (``rpc_timeout`` when the call
gives none), shortened to fit the total budget.

Apart from these retries, the auth interceptors re-send a call once with a refreshed token when it failed with
UNAUTHENTICATED, or with UNKNOWN (a proxy or an identity provider may answer UNKNOWN for an expired token), as
flytekit does. UNAUTHENTICATED means the server refused before applying anything; UNKNOWN may come from a request
that was applied, so :func:`may_resend_after_unknown` keeps that re-send away from unnamed execution creates, the one
kind of call a second copy of which would start a second execution.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import grpc
import tenacity
from tenacity.stop import stop_base
from tenacity.wait import wait_exponential

from airflow_provider_flyte.clients.transport_errors import permanent_transport_error
from airflow_provider_flyte.exceptions import FlyteException, from_grpc_error

if TYPE_CHECKING:
    from airflow_provider_flyte.configuration import PlatformConfig

log = logging.getLogger(__name__)

_TRANSIENT_ALWAYS = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED})
_TRANSIENT_FOR_READS = _TRANSIENT_ALWAYS | {grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED}
_NO_CODES: frozenset[grpc.StatusCode] = frozenset()

_READ_PREFIXES = ("Get", "List")
_EXTRA_READS = frozenset({"UserInfo"})
_NAMED_CREATES = frozenset({"CreateExecution", "RelaunchExecution", "RecoverExecution"})


class RpcKind(enum.Enum):
    """How an RPC may be retried (see the module table)."""

    READ = "read"
    NAMED_CREATE = "named_create"
    WRITE = "write"


@dataclass(frozen=True, slots=True)
class RpcPlan:
    """What the policy decided about one RPC method, computed once per method.

    Attributes:
        method: The full method path, e.g. ``/flyteidl.service.AdminService/GetExecution``.
        name: The short RPC name, e.g. ``GetExecution``.
        kind: How the RPC may be retried.
        retry_codes: The status codes that are retried (for named creates: only when the request has a name).
    """

    method: str
    name: str
    kind: RpcKind
    retry_codes: frozenset[grpc.StatusCode]


def classify(method: str | bytes) -> RpcPlan:
    """Work out the retry rules for ``method`` (a full gRPC method path or a bare RPC name; grpc.aio uses bytes)."""
    if isinstance(method, bytes):
        method = method.decode()
    name = method.rsplit("/", 1)[-1]
    if name.startswith(_READ_PREFIXES) or name in _EXTRA_READS:
        return RpcPlan(method, name, RpcKind.READ, _TRANSIENT_FOR_READS)
    if name in _NAMED_CREATES:
        return RpcPlan(method, name, RpcKind.NAMED_CREATE, _TRANSIENT_FOR_READS)
    return RpcPlan(method, name, RpcKind.WRITE, _TRANSIENT_ALWAYS)


def may_resend_after_unknown(method: str | bytes, request: Any) -> bool:
    """Whether a call that failed with UNKNOWN may be re-sent (with a refreshed token) without risking a duplicate.

    Every RPC may, except ``CreateExecution`` / ``RelaunchExecution`` / ``RecoverExecution`` without a name: if the
    first attempt was applied, a second would start another execution. Other writes, re-sent after being applied,
    answer ALREADY_EXISTS (registrations and named creates, which callers treat as success), FAILED_PRECONDITION (a
    second terminate) or set the same state again (updates).
    """
    plan = classify(method)
    return plan.kind is not RpcKind.NAMED_CREATE or bool(getattr(request, "name", ""))


@dataclass(frozen=True, slots=True)
class NamedCreate:
    """A create RPC outside Flyte Admin's three whose request names what it creates (Flyte 2's ``CreateRun``).

    It is retried and recovered like a named ``CreateExecution`` (see the module table): retried on all three codes
    when :attr:`name_of` finds a name, never without one, and ALREADY_EXISTS on a retry becomes :attr:`recovered`.

    Attributes:
        name_of: The name the request gives what it creates (``""`` when it leaves the choice to the server).
        recovered: The response to return when a retry finds that an earlier attempt created it.
    """

    name_of: Callable[[Any], str]
    recovered: Callable[[Any], Any]


class Jitter(Protocol):
    """The part of :class:`random.Random` the backoff uses; tests inject a deterministic one."""

    def uniform(self, a: float, b: float) -> float:
        """Return a number between ``a`` and ``b``."""
        ...


class FullJitterWait(wait_exponential):
    """Exponential backoff with full jitter: a uniform draw in ``[0, min(max, initial * 2**(n-1))]``."""

    def __init__(self, initial: float, maximum: float, jitter: Jitter) -> None:
        super().__init__(multiplier=initial, max=maximum, exp_base=2)
        self._jitter = jitter

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        """Return the sleep before the next attempt."""
        return self._jitter.uniform(0.0, super().__call__(retry_state))


class _StopAtDeadline(stop_base):
    """Stop when the next sleep would end past the overall deadline (a ``time.monotonic`` value)."""

    def __init__(self, deadline: float) -> None:
        self._deadline = deadline

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        """Whether to give up now."""
        return time.monotonic() + getattr(retry_state, "upcoming_sleep", 0.0) >= self._deadline


def _error_code(error: BaseException) -> grpc.StatusCode | None:
    code = getattr(error, "code", None)
    if not callable(code):
        return None
    try:
        result = code()
    except Exception:  # a half-built call object; treat it as not retryable
        return None
    return result if isinstance(result, grpc.StatusCode) else None


class RetryPolicy:
    """Retry, deadline and error-mapping decisions, shared by the sync and the asyncio interceptors.

    The interceptors make the first attempt themselves (no tenacity on the happy path) and call
    :meth:`retrying` / :meth:`async_retrying` only after a retryable failure.

    Args:
        max_attempts: Attempts in all, the first included (``rpc_retries + 1``; 4 with the default ``rpc_retries``
            of 3, flytekit's default).
        initial_backoff: Upper bound of the first jittered sleep, in seconds.
        max_backoff: Cap on any one sleep, in seconds.
        total_timeout: Cap on the whole call including sleeps, in seconds.
        default_timeout: Per-attempt deadline when the call gives none, in seconds.
        sleep: Sync sleep function (injectable for tests).
        async_sleep: Asyncio sleep function (injectable for tests).
        jitter: Source of the jitter draw (defaults to a private :class:`random.Random`).
        named_creates: More create RPCs that name what they create, by short RPC name (Flyte 2's ``CreateRun``);
            Flyte Admin's three are built in.
    """

    def __init__(
        self,
        *,
        max_attempts: int = 4,
        initial_backoff: float = 0.2,
        max_backoff: float = 10.0,
        total_timeout: float = 120.0,
        default_timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        async_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        jitter: Jitter | None = None,
        named_creates: dict[str, NamedCreate] | None = None,
    ) -> None:
        self.max_attempts = max(1, max_attempts)
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.total_timeout = total_timeout
        self.default_timeout = default_timeout
        self._sleep = sleep
        self._async_sleep = async_sleep
        self._jitter: Jitter = jitter if jitter is not None else random.Random()
        self._plans: dict[str | bytes, RpcPlan] = {}
        self._named_creates = dict(named_creates or {})

    @classmethod
    def from_config(cls, config: PlatformConfig, **overrides: Any) -> RetryPolicy:
        """Build the policy from a config's ``rpc_*`` and ``retry_*`` fields; ``overrides`` win."""
        settings: dict[str, Any] = {
            "max_attempts": config.rpc_retries + 1,
            "initial_backoff": config.retry_initial_backoff,
            "max_backoff": config.retry_max_backoff,
            "total_timeout": config.retry_total_timeout,
            "default_timeout": config.rpc_timeout,
        }
        settings.update(overrides)
        return cls(**settings)

    def __repr__(self) -> str:
        return (
            f"RetryPolicy(max_attempts={self.max_attempts}, initial_backoff={self.initial_backoff}, "
            f"max_backoff={self.max_backoff}, total_timeout={self.total_timeout}, "
            f"default_timeout={self.default_timeout})"
        )

    def plan(self, method: str | bytes) -> RpcPlan:
        """Return the (cached) plan for a method path."""
        plan = self._plans.get(method)
        if plan is None:
            plan = classify(method)
            if plan.name in self._named_creates:
                plan = RpcPlan(plan.method, plan.name, RpcKind.NAMED_CREATE, _TRANSIENT_FOR_READS)
            self._plans[method] = plan
        return plan

    def _created_name(self, plan: RpcPlan, request: Any) -> str:
        rule = self._named_creates.get(plan.name)
        return rule.name_of(request) if rule is not None else getattr(request, "name", "")

    def start(self, timeout: float | None) -> tuple[float, float]:
        """Begin a call: return ``(first attempt timeout, overall deadline)`` as seconds and a monotonic time."""
        attempt_timeout = timeout if timeout is not None else self.default_timeout
        return min(attempt_timeout, self.total_timeout), time.monotonic() + self.total_timeout

    def attempt_timeout(self, timeout: float | None, deadline: float) -> float:
        """The deadline for a retry attempt: the call's timeout, shortened to what is left of the total budget."""
        attempt_timeout = timeout if timeout is not None else self.default_timeout
        return max(0.0, min(attempt_timeout, deadline - time.monotonic()))

    def is_retryable(self, plan: RpcPlan, request: Any, error: BaseException) -> bool:
        """Whether ``error`` from one attempt of ``plan`` may be retried for this ``request``."""
        if plan.kind is RpcKind.NAMED_CREATE and not self._created_name(plan, request):
            return False
        if permanent_transport_error(error) is not None:  # a TLS misconfiguration reported as UNAVAILABLE
            return False
        return _error_code(error) in plan.retry_codes

    def first_failure_is_retryable(self, plan: RpcPlan, request: Any, error: BaseException) -> bool:
        """Cheap pre-check before building a tenacity loop: retries enabled and the first error retryable."""
        return self.max_attempts > 1 and self.is_retryable(plan, request, error)

    def _retry_kwargs(self, plan: RpcPlan, request: Any, deadline: float) -> dict[str, Any]:
        def before_sleep(state: tenacity.RetryCallState) -> None:
            outcome = state.outcome
            error = outcome.exception() if outcome is not None else None
            code = _error_code(error) if error is not None else None
            # INFO, not WARNING: a retry that then succeeds is routine, and the caller reports a final failure.
            log.info(
                "Retrying %s after %s (attempt %d of %d failed) in %.2fs",
                plan.name,
                code.name if code is not None else type(error).__name__,
                state.attempt_number,
                self.max_attempts,
                getattr(state, "upcoming_sleep", 0.0),
            )

        return {
            "stop": tenacity.stop_after_attempt(self.max_attempts) | _StopAtDeadline(deadline),
            "wait": FullJitterWait(self.initial_backoff, self.max_backoff, self._jitter),
            "retry": tenacity.retry_if_exception(lambda error: self.is_retryable(plan, request, error)),
            "before_sleep": before_sleep,
            "reraise": True,
        }

    def retrying(self, plan: RpcPlan, request: Any, deadline: float) -> tenacity.Retrying:
        """A sync tenacity loop for the attempts after a retryable first failure.

        The loop's first iteration must re-raise that first failure (so attempt numbers and backoff line up); the
        interceptors do that instead of calling the server again.
        """
        return tenacity.Retrying(sleep=self._sleep, **self._retry_kwargs(plan, request, deadline))

    def async_retrying(self, plan: RpcPlan, request: Any, deadline: float) -> tenacity.AsyncRetrying:
        """The asyncio twin of :meth:`retrying` (same stop, wait, retry and logging decisions)."""
        return tenacity.AsyncRetrying(sleep=self._async_sleep, **self._retry_kwargs(plan, request, deadline))

    def recover_after_retry(self, plan: RpcPlan, request: Any, error: BaseException, attempt: int) -> Any | None:
        """Turn ALREADY_EXISTS on a retried named execution create into the response the first attempt got.

        Returns:
            An ``ExecutionCreateResponse`` for the execution named in the request (for a :class:`NamedCreate`, its
            ``recovered`` response), or ``None`` when ``error`` must be raised.
        """
        if attempt < 2 or plan.kind is not RpcKind.NAMED_CREATE:
            return None
        if _error_code(error) is not grpc.StatusCode.ALREADY_EXISTS:
            return None
        rule = self._named_creates.get(plan.name)
        if rule is not None:
            log.info(
                "%s answered ALREADY_EXISTS on attempt %d: an earlier attempt created %s",
                plan.name,
                attempt,
                rule.name_of(request),
            )
            return rule.recovered(request)
        from flyteidl.admin import execution_pb2
        from flyteidl.core import identifier_pb2

        if plan.name == "CreateExecution":
            project, domain, org = request.project, request.domain, getattr(request, "org", "")
        else:  # Relaunch/Recover name the new execution within the original's project and domain
            project, domain, org = request.id.project, request.id.domain, getattr(request.id, "org", "")
        execution_id = identifier_pb2.WorkflowExecutionIdentifier(
            project=project, domain=domain, name=request.name, org=org
        )
        log.info(
            "%s answered ALREADY_EXISTS on attempt %d: execution %s:%s:%s was created by an earlier attempt",
            plan.name,
            attempt,
            project,
            domain,
            request.name,
        )
        return execution_pb2.ExecutionCreateResponse(id=execution_id)

    def to_exception(self, plan: RpcPlan, error: BaseException) -> BaseException:
        """Map a failed attempt's error to the exception to raise (our own exceptions pass through)."""
        if isinstance(error, FlyteException):
            return error
        if isinstance(error, grpc.RpcError):
            # A TLS failure arrives as UNAVAILABLE, like an outage: name the setting to change instead.
            return permanent_transport_error(error, plan.method) or from_grpc_error(error, plan.method)
        return error
