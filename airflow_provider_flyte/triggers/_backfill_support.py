"""Progress of a backfill execution, shared by the backfill operator (worker) and its trigger (triggerer).

A backfill workflow has one launch-plan node per scheduled time (``n0``, ``n1``...); each node's child execution is
one run of the backfilled launch plan. Nothing here imports Airflow or does I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flyteidl.admin import node_execution_pb2


def backfill_children(
    nodes: Iterable[node_execution_pb2.NodeExecution], scheduled_times: Mapping[str, str]
) -> list[dict[str, Any]]:
    """One plain-JSON entry per backfill run, in schedule order.

    Args:
        nodes: The backfill execution's top-level node executions (start and end nodes are ignored).
        scheduled_times: ISO scheduled time by node id (``{"n0": "2026-01-01T02:00:00+00:00", ...}``).

    Returns:
        ``[{"node_id", "scheduled_time", "execution_id" (None until launched), "phase"}, ...]``; nodes not started
        yet are reported ``"UNDEFINED"``.
    """
    from airflow_provider_flyte.remote.executions import NODE_PHASES

    by_id = {node.id.node_id: node for node in nodes}
    children = []
    for node_id, scheduled in sorted(scheduled_times.items(), key=lambda item: int(item[0][1:])):
        node = by_id.get(node_id)
        child_id = None
        phase = "UNDEFINED"
        if node is not None:
            phase = NODE_PHASES[node.closure.phase]
            if node.closure.HasField("workflow_node_metadata"):
                child = node.closure.workflow_node_metadata.executionId
                if child.name:
                    child_id = f"ex:{child.project}:{child.domain}:{child.name}"
        children.append({"node_id": node_id, "scheduled_time": scheduled, "execution_id": child_id, "phase": phase})
    return children


_FINISHED = frozenset({"SUCCEEDED", "FAILED", "ABORTED", "SKIPPED", "TIMED_OUT", "RECOVERED"})
_FAILED = frozenset({"FAILED", "ABORTED", "TIMED_OUT"})


def failed_children(children: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The runs that ended without succeeding."""
    return [child for child in children if child["phase"] in _FAILED]


def describe_child(child: Mapping[str, Any]) -> str:
    """``2026-01-02T02:00:00+00:00 (ex:p:d:name) FAILED`` -- how logs and errors name a run."""
    where = f" ({child['execution_id']})" if child.get("execution_id") else ""
    return f"{child['scheduled_time']}{where} {child['phase']}"


def progress_line(children: Sequence[Mapping[str, Any]]) -> str:
    """``2 of 3 runs finished; failed: ...`` for the task log."""
    finished = sum(child["phase"] in _FINISHED for child in children)
    failed = failed_children(children)
    line = f"{finished} of {len(children)} backfill runs finished"
    if failed:
        line += "; failed: " + ", ".join(describe_child(child) for child in failed)
    return line
