"""The Flyte 2 demo task: what ``example_flyte2`` launches in ``airflow-flyte demo`` and in the live tests.

``demo.summarize`` (``numbers: list[int], label: str`` -> ``o0: int`` (the total), ``o1: str`` (a report)) is
deployed as version ``v1`` in ``flytesnacks``/``development`` and runs :func:`summarize` (a behaviour, so a test can
script it differently with :meth:`~flyte_admin_sandbox.v2.server.Flyte2Sandbox.behave`).

Example::

    with Flyte2Sandbox() as sandbox:
        deploy_demo_task(sandbox, duration=1.0)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flyteidl2.core import identifier_pb2, interface_pb2, tasks_pb2, types_pb2
from flyteidl2.task import task_definition_pb2, task_service_pb2

from flyte_admin_sandbox.v2.services_tasks import TaskService

if TYPE_CHECKING:
    from flyte_admin_sandbox.v2.server import Flyte2Sandbox

DEMO_TASK = "demo.summarize"
DEMO_VERSION = "v1"
DEMO_PROJECT, DEMO_DOMAIN = "flytesnacks", "development"
DEMO_FUNCTION = f"{__name__}:summarize"


def summarize(numbers: list[int], label: str) -> tuple[int, str]:
    """The total of ``numbers`` and a one-line report naming ``label``."""
    total = sum(numbers)
    return total, f"{label}: total {total} over {len(numbers)} value(s)"


def _variables(**types: types_pb2.LiteralType) -> interface_pb2.VariableMap:
    entries = [interface_pb2.VariableEntry(key=k, value=interface_pb2.Variable(type=t)) for k, t in types.items()]
    return interface_pb2.VariableMap(variables=entries)


def demo_task_spec() -> task_definition_pb2.TaskSpec:
    """The spec of ``demo.summarize``, typed as the ``flyte`` SDK would type the Python function."""
    integer = types_pb2.LiteralType(simple=types_pb2.INTEGER)
    string = types_pb2.LiteralType(simple=types_pb2.STRING)
    template = tasks_pb2.TaskTemplate(
        id=identifier_pb2.Identifier(
            resource_type=identifier_pb2.TASK,
            project=DEMO_PROJECT,
            domain=DEMO_DOMAIN,
            name=DEMO_TASK,
            version=DEMO_VERSION,
        ),
        type="python",
        interface=interface_pb2.TypedInterface(
            inputs=_variables(numbers=types_pb2.LiteralType(collection_type=integer), label=string),
            outputs=_variables(o0=integer, o1=string),
        ),
    )
    return task_definition_pb2.TaskSpec(task_template=template, short_name="summarize")


def deploy_demo_task(sandbox: Flyte2Sandbox, *, duration: float | None = None) -> None:
    """Deploy ``demo.summarize`` to ``sandbox`` and make its runs call :func:`summarize` (taking ``duration`` s)."""
    task_id = task_definition_pb2.TaskIdentifier(
        project=DEMO_PROJECT, domain=DEMO_DOMAIN, name=DEMO_TASK, version=DEMO_VERSION
    )
    TaskService(sandbox.backend).DeployTask(task_service_pb2.DeployTaskRequest(task_id=task_id, spec=demo_task_spec()))
    sandbox.behave(DEMO_TASK, function=DEMO_FUNCTION, duration=duration)
