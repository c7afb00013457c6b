from __future__ import annotations

import time

import grpc
import pytest
from flyteidl.admin import execution_pb2
from flyteidl.core import execution_pb2 as core_execution_pb2

TERMINAL = {
    core_execution_pb2.WorkflowExecution.SUCCEEDED,
    core_execution_pb2.WorkflowExecution.FAILED,
    core_execution_pb2.WorkflowExecution.ABORTED,
    core_execution_pb2.WorkflowExecution.TIMED_OUT,
}


def rpc_error(call, request) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        call(request)
    return caught.value


def wait_for(admin, execution_id, phases=TERMINAL, limit: float = 30.0) -> execution_pb2.Execution:
    """Poll until the execution reaches one of ``phases`` (a generous deadline guards against hangs only)."""
    deadline = time.monotonic() + limit
    while True:
        execution = admin.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=execution_id))
        if execution.closure.phase in phases:
            return execution
        if time.monotonic() > deadline:
            raise AssertionError(f"execution stuck in phase {execution.closure.phase}")
        time.sleep(0.02)
