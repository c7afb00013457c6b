"""Building flyteidl2 messages by hand for the direct gRPC tests of the Flyte 2 sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
from flyteidl2.common import identifier_pb2
from flyteidl2.core import identifier_pb2 as core_identifier_pb2
from flyteidl2.core import interface_pb2, literals_pb2, tasks_pb2, types_pb2
from flyteidl2.task import common_pb2, task_definition_pb2, task_service_pb2, task_service_pb2_grpc
from flyteidl2.trigger import trigger_service_pb2_grpc
from flyteidl2.workflow import run_service_pb2, run_service_pb2_grpc

PROJECT, DOMAIN = "flytesnacks", "development"
INT = types_pb2.LiteralType(simple=types_pb2.INTEGER)


def variables(**types: types_pb2.LiteralType) -> interface_pb2.VariableMap:
    return interface_pb2.VariableMap(
        variables=[interface_pb2.VariableEntry(key=k, value=interface_pb2.Variable(type=t)) for k, t in types.items()]
    )


def int_literal(value: int) -> literals_pb2.Literal:
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=value)))


def inputs(**values: int) -> common_pb2.Inputs:
    return common_pb2.Inputs(
        literals=[common_pb2.NamedLiteral(name=k, value=int_literal(v)) for k, v in values.items()]
    )


def task_id(name: str = "env.double", version: str = "v1") -> task_definition_pb2.TaskIdentifier:
    return task_definition_pb2.TaskIdentifier(project=PROJECT, domain=DOMAIN, name=name, version=version)


def spec(name: str = "env.double", version: str = "v1", *, timeout: float = 0.0, **custom: Any) -> Any:
    """A task spec with input ``x: int`` and output ``o0: int``."""
    template = tasks_pb2.TaskTemplate(
        id=core_identifier_pb2.Identifier(
            resource_type=core_identifier_pb2.TASK, project=PROJECT, domain=DOMAIN, name=name, version=version
        ),
        type="python",
        interface=interface_pb2.TypedInterface(inputs=variables(x=INT), outputs=variables(o0=INT)),
    )
    if timeout:
        template.metadata.timeout.FromMilliseconds(int(timeout * 1000))
    template.custom.update(custom)
    return task_definition_pb2.TaskSpec(task_template=template, short_name=name.rsplit(".", 1)[-1])


class Stubs:
    """The flyteidl2 gRPC stubs on one channel."""

    def __init__(self, channel: grpc.Channel) -> None:
        self.tasks = task_service_pb2_grpc.TaskServiceStub(channel)
        self.runs = run_service_pb2_grpc.RunServiceStub(channel)
        self.triggers = trigger_service_pb2_grpc.TriggerServiceStub(channel)

    def deploy(self, name: str = "env.double", version: str = "v1", **options: Any) -> None:
        self.tasks.DeployTask(
            task_service_pb2.DeployTaskRequest(task_id=task_id(name, version), spec=spec(name, version, **options))
        )

    def run(self, run_name: str, name: str = "env.double", version: str = "v1", **values: int) -> Any:
        request = run_service_pb2.CreateRunRequest(
            run_id=run_identifier(run_name), task_id=task_id(name, version), inputs=inputs(**values)
        )
        return self.runs.CreateRun(request).run

    def watch(self, run_name: str) -> Iterator[Any]:
        request = run_service_pb2.WatchRunDetailsRequest(run_id=run_identifier(run_name))
        for response in self.runs.WatchRunDetails(request, timeout=10):
            yield response.details


def run_identifier(name: str) -> identifier_pb2.RunIdentifier:
    return identifier_pb2.RunIdentifier(project=PROJECT, domain=DOMAIN, name=name)


def action_identifier(name: str) -> identifier_pb2.ActionIdentifier:
    return identifier_pb2.ActionIdentifier(run=run_identifier(name), name="a0")


def double(x: int) -> int:
    return 2 * x
