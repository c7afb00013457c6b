"""Builders for the event RPCs through which Flyte's data plane (propeller) reports execution progress to Admin.

A client has no reason to send these events except to stand in for a data plane; they are here so that the friendly
clients cover every AdminService RPC.
"""

from __future__ import annotations

from typing import Any

from flyteidl.admin import event_pb2 as admin_event_pb2
from flyteidl.event import event_pb2

from airflow_provider_flyte.clients._calls.checks import _message, _optional_text
from airflow_provider_flyte.clients._calls.core import ADMIN, Call, _nothing


def create_workflow_event(event: Any, request_id: str | None) -> Call[None]:
    """``CreateWorkflowEvent``."""
    request = admin_event_pb2.WorkflowExecutionEventRequest(
        request_id=_optional_text(request_id, "request_id"),
        event=_message(event, event_pb2.WorkflowExecutionEvent, "event"),
    )
    return Call(ADMIN, "CreateWorkflowEvent", request, _nothing)


def create_node_event(event: Any, request_id: str | None) -> Call[None]:
    """``CreateNodeEvent``."""
    request = admin_event_pb2.NodeExecutionEventRequest(
        request_id=_optional_text(request_id, "request_id"),
        event=_message(event, event_pb2.NodeExecutionEvent, "event"),
    )
    return Call(ADMIN, "CreateNodeEvent", request, _nothing)


def create_task_event(event: Any, request_id: str | None) -> Call[None]:
    """``CreateTaskEvent``."""
    request = admin_event_pb2.TaskExecutionEventRequest(
        request_id=_optional_text(request_id, "request_id"),
        event=_message(event, event_pb2.TaskExecutionEvent, "event"),
    )
    return Call(ADMIN, "CreateTaskEvent", request, _nothing)
