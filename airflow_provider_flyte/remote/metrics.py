"""Execution timing spans (``GetExecutionMetrics``) as data and as a readable table.

Flyte Admin answers ``GetExecutionMetrics`` with a tree of ``core.Span``: the workflow execution at the root, node
executions, task attempts and named operations (``WORKFLOW_SETUP``, ``NODE_IDLE``, ``TASK_RUNTIME``...) below.
:class:`FlyteExecutionSpan` wraps that tree. Unlike flytekit's, whose only outputs are printed, it returns the same
information as plain data (:meth:`FlyteExecutionSpan.to_dict`, :meth:`FlyteExecutionSpan.breakdown`) and prints it
only on request (:meth:`FlyteExecutionSpan.explain`). Times are shown in UTC so the table does not depend on the
machine's time zone.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from flyteidl.core import metrics_pb2
    from google.protobuf import timestamp_pb2

_TIME_FORMAT = "%m-%d %H:%M:%S.%f"
_HEADER = f"{'operation':25s}{'start_timestamp':25s}{'end_timestamp':25s} {'duration':>8s}    entity"


class FlyteExecutionSpan:
    """One span of an execution's timing tree and its children.

    Attributes:
        span: The wrapped ``flyteidl.core.Span`` message.
    """

    def __init__(self, span: metrics_pb2.Span) -> None:
        self.span = span

    @classmethod
    def from_flyte_idl(cls, span: metrics_pb2.Span) -> FlyteExecutionSpan:
        """Wrap a ``core.Span`` message."""
        return cls(span)

    def to_flyte_idl(self) -> metrics_pb2.Span:
        """Return the wrapped ``core.Span`` message."""
        return self.span

    @property
    def kind(self) -> str:
        """``"workflow"``, ``"node"``, ``"task"`` or ``"operation"`` (``""`` for a span without an id)."""
        which = self.span.WhichOneof("id")
        return {
            "workflow_id": "workflow",
            "node_id": "node",
            "task_id": "task",
            "operation_id": "operation",
        }.get(which or "", "")

    @property
    def name(self) -> str:
        """The span's own label: execution name, node id, attempt number or operation id."""
        span = self.span
        kind = self.kind
        if kind == "workflow":
            return span.workflow_id.name
        if kind == "node":
            return span.node_id.node_id
        if kind == "task":
            return str(span.task_id.retry_attempt)
        return span.operation_id

    @property
    def entity(self) -> str:
        """Entity column of the table: ``workflow/<name>``, ``node/<id>``, ``task/<attempt>`` or the operation."""
        return self.name if self.kind in ("operation", "") else f"{self.kind}/{self.name}"

    @property
    def start_time(self) -> datetime:
        """Start of the span (UTC)."""
        return _to_datetime(self.span.start_time)

    @property
    def end_time(self) -> datetime:
        """End of the span (UTC)."""
        return _to_datetime(self.span.end_time)

    @property
    def duration(self) -> float:
        """Length of the span in seconds."""
        return (self.end_time - self.start_time).total_seconds()

    @property
    def children(self) -> list[FlyteExecutionSpan]:
        """The nested spans, in the server's order."""
        return [FlyteExecutionSpan(child) for child in self.span.spans]

    def to_dict(self) -> dict[str, Any]:
        """The span tree as JSON-able nested dicts.

        Each level holds ``kind``, ``name``, ``start_time`` and ``end_time`` (ISO 8601, UTC), ``duration``
        (seconds) and ``children`` (a list of the same shape).
        """
        return {
            "kind": self.kind,
            "name": self.name,
            "start_time": self.start_time.isoformat(),
            "end_time": self.end_time.isoformat(),
            "duration": self.duration,
            "children": [child.to_dict() for child in self.children],
        }

    def breakdown(self) -> dict[str, float]:
        """Total seconds per operation id over the whole tree, e.g. ``{"TASK_RUNTIME": 12.5, "NODE_IDLE": 0.3}``."""
        totals: dict[str, float] = {}
        for span, _depth in self.walk():
            if span.kind == "operation":
                totals[span.name] = totals.get(span.name, 0.0) + span.duration
        return totals

    def walk(self, depth: int = 0) -> Iterator[tuple[FlyteExecutionSpan, int]]:
        """Yield every span of the tree with its depth, parents before children."""
        yield self, depth
        for child in self.children:
            yield from child.walk(depth + 1)

    def explain(self, file: TextIO | None = None) -> None:
        """Print flytekit's table: one row per operation (start, end, duration) under the entity it belongs to.

        The rows are flytekit's, indentation included; times are in UTC (flytekit prints the machine's local time).

        Args:
            file: Where to write; standard output by default.
        """
        out = file if file is not None else sys.stdout
        print(_HEADER, file=out)
        print("-" * 140, file=out)
        for span, indent, owner in self._operations(-1, ""):
            print(
                f"{span.name:25s}{span.start_time.strftime(_TIME_FORMAT):25s}"
                f"{span.end_time.strftime(_TIME_FORMAT):25s} {span.duration:7.2f}s    {'  ' * indent}{owner}",
                file=out,
            )

    def _operations(self, indent: int, owner: str) -> Iterator[tuple[FlyteExecutionSpan, int, str]]:
        """Operation spans with their indentation and the label of the entity they belong to."""
        if self.kind == "operation":
            yield self, indent, owner
            label = f"{owner}/{self.name}"
        else:
            label = self.entity
        for child in self.children:
            yield from child._operations(indent + 1, label)

    def __repr__(self) -> str:
        return f"FlyteExecutionSpan({self.entity!r}, {self.duration:.2f}s, {len(self.span.spans)} children)"


def _to_datetime(timestamp: timestamp_pb2.Timestamp) -> datetime:
    return datetime.fromtimestamp(timestamp.seconds + timestamp.nanos / 1e9, tz=timezone.utc)
