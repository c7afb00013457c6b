"""Progress lines for long waits, so a task log never goes quiet while Flyte works.

Every wait logs a line when the phase of what it waits for changes. Between changes a run can stay RUNNING for
hours; :class:`ProgressReport` tells the wait when another line is due (at least every :data:`PROGRESS_EVERY`
seconds) and writes it: phase, time waited, and how far the run's nodes got::

    Flyte execution ex:flytesnacks:development:af-x is still RUNNING after 10m 0s; nodes: 2 done, 1 running, 5 total (https://...)

The wait hands its client to :func:`node_counts` (or :func:`anode_counts` in a trigger): one paged
``ListNodeExecutions`` per line, so at most one call every five minutes per wait. Nothing here imports grpc or Airflow.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_flyte.exceptions import FlyteException

if TYPE_CHECKING:
    from airflow_provider_flyte.waiting import WaitLogger

PROGRESS_EVERY = 300.0
"""Longest stretch, in seconds, a wait stays silent between progress lines."""

_COMPILER_NODES = frozenset({"start-node", "end-node"})
_DONE_PHASES = frozenset({3, 4, 5, 6, 7, 8, 10})
"""NodeExecution.Phase values of a finished node: SUCCEEDED, FAILING, FAILED, ABORTED, SKIPPED, TIMED_OUT, RECOVERED.

FAILING (4) counts as done: the node stopped working and only its cleanup remains.
"""
_RUNNING_PHASES = frozenset({1, 2, 9})
"""QUEUED, RUNNING and DYNAMIC_RUNNING."""


@dataclass(frozen=True)
class NodeCounts:
    """How far the top-level nodes of a workflow execution got.

    Attributes:
        done: Nodes that finished (whatever the outcome).
        running: Nodes queued or running.
        total: Nodes that have an execution so far (nodes not reached yet have none).
    """

    done: int
    running: int
    total: int

    @classmethod
    def of(cls, node_executions: Iterable[Any]) -> NodeCounts:
        """Count ``admin.NodeExecution`` messages, leaving out the compiler's start and end nodes."""
        done = running = total = 0
        for node in node_executions:
            if node.id.node_id in _COMPILER_NODES:
                continue
            total += 1
            phase = int(node.closure.phase)
            done += phase in _DONE_PHASES
            running += phase in _RUNNING_PHASES
        return cls(done, running, total)

    def __str__(self) -> str:
        return f"nodes: {self.done} done, {self.running} running, {self.total} total"


def node_counts(client: Any, execution_id: Any, log: WaitLogger) -> NodeCounts | None:
    """How far the nodes of ``execution_id`` got, through a sync client's ``iter_node_executions``.

    Progress is a courtesy: when Flyte Admin does not answer, the reason is logged on ``log`` (INFO) and ``None``
    returned, so the wait goes on (its next poll meets an outage, if there is one).
    """
    try:
        return NodeCounts.of(client.iter_node_executions(execution_id))
    except FlyteException as error:
        log.info("Could not count the nodes of %s: %s", execution_id, error)
        return None


async def anode_counts(client: Any, execution_id: Any, log: WaitLogger) -> NodeCounts | None:
    """The asyncio twin of :func:`node_counts`, through an async client's ``iter_node_executions``."""
    try:
        return NodeCounts.of([node async for node in client.iter_node_executions(execution_id)])
    except FlyteException as error:
        log.info("Could not count the nodes of %s: %s", execution_id, error)
        return None


def elapsed_text(seconds: float) -> str:
    """``"1h 02m"``, ``"4m 05s"`` or ``"12s"``: a duration as a person reads it in a log."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


_NOTHING_SEEN = object()


class ProgressReport:
    """Decides when a wait logs a progress line between phase changes, and writes it.

    Args:
        subject: What is waited for, e.g. ``"Flyte execution ex:p:d:name"``.
        url: The console URL shown at the end of each line (``None``: no link).
        every: Longest silence in seconds (default: :data:`PROGRESS_EVERY`, read when the report is made).
        clock: Monotonic time source (tests pass a fake one).
    """

    def __init__(
        self,
        subject: str,
        url: str | None = None,
        every: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.subject = subject
        self.url = url
        self.every = PROGRESS_EVERY if every is None else every
        self._clock = clock
        self._started = clock()
        self._last_line = self._started
        self._state: object = _NOTHING_SEEN

    def changed(self, state: object) -> bool:
        """Note the latest ``state`` of what is waited for (a phase, a "2 of 3 finished" text): whether it is new.

        A new state is the wait's cue to log a line of its own; the next progress line then waits its full interval.
        The first state noted is new.
        """
        if state == self._state:
            return False
        self._state = state
        self.logged()
        return True

    def logged(self) -> None:
        """Note that the wait just logged a line of its own (a phase change): the next progress line can wait."""
        self._last_line = self._clock()

    def due(self) -> bool:
        """Whether the wait has been silent for :attr:`every` seconds."""
        return self.seconds_until_due() <= 0

    def seconds_until_due(self) -> float:
        """Seconds before the next progress line is due (0 or less: due now)."""
        return self._last_line + self.every - self._clock()

    def line(self, phase: str | None, *details: NodeCounts | str | None) -> str:
        """The progress line for ``phase``, noting it as logged.

        Args:
            phase: The phase of what is waited for (``None``: not started).
            *details: How far it got (:class:`NodeCounts`) and notes such as what is still missing, in that order,
                each after a ``;`` (``None`` ones are left out).
        """
        self.logged()
        text = f"{self.subject} is still {phase or 'not started'} after {elapsed_text(self._clock() - self._started)}"
        text += "".join(f"; {detail}" for detail in details if detail is not None)
        return f"{text} ({self.url})" if self.url else text


__all__ = ["PROGRESS_EVERY", "NodeCounts", "ProgressReport", "anode_counts", "elapsed_text", "node_counts"]
