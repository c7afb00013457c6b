"""What a watcher hands its callers: snapshots of executions, subscriptions, and the error a failed watch raises."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_flyte._phases import TERMINAL_PHASE_NAMES as TERMINAL_PHASES
from airflow_provider_flyte.identifiers import WorkflowExecutionIdentifier
from airflow_provider_flyte.remote.executions import WORKFLOW_PHASES, phase_name
from airflow_provider_flyte.waiting import WaitClock


@dataclass(frozen=True)
class ExecutionSnapshot:
    """What a tick learned about one execution.

    Attributes:
        execution_id: The execution.
        phase: Its phase name (``"RUNNING"``, ``"SUCCEEDED"``...).
        message: Flyte's error message of a failed run, or the abort cause of an aborted one; else empty.
    """

    execution_id: WorkflowExecutionIdentifier
    phase: str
    message: str = ""
    phase_number: int = field(default=-1, compare=False)
    """The ``WorkflowExecution.Phase`` value (``-1`` when built from a name only); a cheap change check."""

    @property
    def is_terminal(self) -> bool:
        """Whether the execution is finished."""
        return self.phase in TERMINAL_PHASES

    @classmethod
    def from_execution(
        cls, execution: Any, execution_id: WorkflowExecutionIdentifier | None = None
    ) -> ExecutionSnapshot:
        """Build from an ``admin.Execution`` message.

        Args:
            execution: The execution as Admin returns it.
            execution_id: Its identifier, when the caller has it already (saves building it again).
        """
        closure = execution.closure
        phase = int(closure.phase)
        message = ""
        if closure.HasField("error"):
            message = closure.error.message
        elif closure.HasField("abort_metadata"):
            message = closure.abort_metadata.cause
        return cls(
            execution_id or WorkflowExecutionIdentifier.from_flyte_idl(execution.id),
            phase_name(WORKFLOW_PHASES, phase),
            message,
            phase,
        )


class WatchError(Exception):
    """Watching an execution failed (not found, persistent errors, bad credentials, the watcher closed)."""


@dataclass(eq=False)
class Subscription:
    """One caller's interest in one execution; :meth:`next` returns each new snapshot.

    Its ``outage`` clock follows Flyte Admin's failures for this caller: it logs them to the caller's logger (a
    trigger's, so they show in the task's log) and fails the subscription past its ``outage_tolerance``.

    Attributes:
        execution_id: The watched execution.
        poll_interval: Longest time between two looks at it, in seconds.
        outage: The clock that decides how long this caller rides out Admin being unreachable.
        latest: The last snapshot published, if any.
        error: Why the watch failed, once it has.
    """

    execution_id: WorkflowExecutionIdentifier
    poll_interval: float
    outage: WaitClock
    latest: ExecutionSnapshot | None = None
    error: WatchError | None = None
    # Something new to hand out, and the future a caller of next() waits on (made only while one waits: a triggerer
    # keeps 100,000 subscriptions, and an asyncio.Event each would weigh about 0.7 KiB more).
    _ready: bool = field(default=False, repr=False)
    _waiter: asyncio.Future[None] | None = field(default=None, repr=False)

    def publish(self, snapshot: ExecutionSnapshot) -> None:
        """Record a snapshot (and wake the caller)."""
        self.latest = snapshot
        self._wake()

    def fail(self, error: WatchError) -> None:
        """Record a failure (and wake the caller)."""
        self.error = error
        self._wake()

    def _wake(self) -> None:
        self._ready = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def next(self, timeout: float | None = None) -> ExecutionSnapshot:
        """Wait for the next snapshot.

        Args:
            timeout: Seconds to wait at most; ``None`` waits as long as it takes.

        Raises:
            WatchError: when the watch failed.
            TimeoutError: when ``timeout`` seconds pass first (``asyncio.TimeoutError`` before Python 3.11).
        """
        if not self._ready:
            if self._waiter is None or self._waiter.done():
                self._waiter = asyncio.get_running_loop().create_future()
            # asyncio.wait leaves the future alone on a timeout or a cancellation: another caller may share it.
            done, _pending = await asyncio.wait((self._waiter,), timeout=timeout)
            if not done:
                raise asyncio.TimeoutError
        self._ready = False
        self._waiter = None
        if self.error is not None:
            raise self.error
        assert self.latest is not None  # set before the wake-up
        return self.latest
