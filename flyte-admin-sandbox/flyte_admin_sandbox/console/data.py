"""What the console reads, through the sandbox's own Admin services, and how it turns literals into values.

:class:`ConsoleData` calls the same servicer methods the gRPC server routes RPCs to, with real flyteidl request
messages, so every page shows exactly what Flyte Admin answers (faults and auth, which live in gRPC interceptors,
do not apply). Literals are read with the provider's codec (:mod:`airflow_provider_flyte.literals`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import grpc
from flyteidl.admin import (
    common_pb2,
    launch_plan_pb2,
    node_execution_pb2,
    project_pb2,
    signal_pb2,
    task_execution_pb2,
    task_pb2,
    workflow_pb2,
)
from flyteidl.admin import execution_pb2 as admin_pb2
from flyteidl.core import identifier_pb2, interface_pb2, literals_pb2, metrics_pb2, types_pb2

from flyte_admin_sandbox.errors import AdminError

if TYPE_CHECKING:
    from flyte_admin_sandbox.executions import Executions
    from flyte_admin_sandbox.registry import Registry

log = logging.getLogger(__name__)

Request = TypeVar("Request")
Response = TypeVar("Response")

PAGE_SIZE = 100
"""Items asked for per list call."""

MAX_ITEMS = 2000
"""The most items a console list gathers across pages."""

RT = identifier_pb2.ResourceType


class NotFound(Exception):
    """What a page asked for does not exist: the console answers ``404`` with this text.

    Args:
        what: What was not found, for people (``execution flytesnacks/development/abc``).
        detail: Flyte Admin's message, when it answered ``NOT_FOUND``.
    """

    def __init__(self, what: str, detail: str = "") -> None:
        super().__init__(what)
        self.what = what
        self.detail = detail


class BadRequest(Exception):
    """The address or its query is not something the console can answer (``400``)."""


def newest_first() -> common_pb2.Sort:
    """The sort order of console lists: most recently created first."""
    return common_pb2.Sort(key="created_at", direction=common_pb2.Sort.DESCENDING)


class ConsoleData:
    """Read-only access to one sandbox's registry and executions, as Admin RPCs answered in-process.

    Args:
        registry: The sandbox's entity services (projects, tasks, workflows, launch plans).
        executions: The sandbox's execution services (executions, nodes, task attempts, data, metrics, signals).
    """

    def __init__(self, registry: Registry, executions: Executions) -> None:
        self.registry = registry
        self.executions = executions

    @staticmethod
    def _call(what: str, method: Callable[[Request], Response], request: Request) -> Response:
        """Call a service method; Admin's ``NOT_FOUND`` becomes :class:`NotFound` naming ``what``."""
        try:
            return method(request)
        except AdminError as error:
            if error.code == grpc.StatusCode.NOT_FOUND:
                raise NotFound(what, error.message) from None
            raise

    @staticmethod
    def _pages(fetch: Callable[[str], tuple[list[Any], str]], limit: int = MAX_ITEMS) -> Iterator[Any]:
        """Items of a paginated list, following tokens until the end or ``limit`` items."""
        token, count = "", 0
        while True:
            items, token = fetch(token)
            for item in items:
                if count >= limit:
                    return
                count += 1
                yield item
            if not token:
                return

    # Projects ----------------------------------------------------------------------------------------------------

    def projects(self) -> list[project_pb2.Project]:
        """Every project."""

        def fetch(token: str) -> tuple[list[Any], str]:
            answer = self.registry.ListProjects(project_pb2.ProjectListRequest(limit=PAGE_SIZE, token=token))
            return list(answer.projects), answer.token

        return list(self._pages(fetch))

    def project(self, project: str) -> project_pb2.Project:
        """One project.

        Raises:
            NotFound: when there is no such project.
        """
        return self._call(f"project {project}", self.registry.GetProject, project_pb2.ProjectGetRequest(id=project))

    def domains(self) -> list[str]:
        """The configured domain ids."""
        answer = self.registry.GetDomains(project_pb2.GetDomainRequest())
        return [domain.id for domain in answer.domains]

    # Executions --------------------------------------------------------------------------------------------------

    def execution(self, execution_id: identifier_pb2.WorkflowExecutionIdentifier) -> admin_pb2.Execution:
        """One execution (GetExecution).

        Raises:
            NotFound: when there is no such execution.
        """
        what = f"execution {execution_id.project}/{execution_id.domain}/{execution_id.name}"
        request = admin_pb2.WorkflowExecutionGetRequest(id=execution_id)
        return self._call(what, self.executions.GetExecution, request)

    def execution_data(
        self, execution_id: identifier_pb2.WorkflowExecutionIdentifier
    ) -> admin_pb2.WorkflowExecutionGetDataResponse:
        """An execution's inputs and outputs (GetExecutionData)."""
        request = admin_pb2.WorkflowExecutionGetDataRequest(id=execution_id)
        return self._call(f"data of execution {execution_id.name}", self.executions.GetExecutionData, request)

    def executions_of(
        self, project: str, domain: str, filters: str = "", limit: int = PAGE_SIZE
    ) -> list[admin_pb2.Execution]:
        """The newest executions of a project/domain matching Admin ``filters`` (ListExecutions)."""
        request = common_pb2.ResourceListRequest(
            id=common_pb2.NamedEntityIdentifier(project=project, domain=domain),
            limit=limit,
            filters=filters,
            sort_by=newest_first(),
        )
        return list(self.executions.ListExecutions(request).executions)

    def metrics(self, execution_id: identifier_pb2.WorkflowExecutionIdentifier) -> metrics_pb2.Span | None:
        """The execution's spans (GetExecutionMetrics, nodes and their attempts); ``None`` when not served."""
        method = getattr(self.executions, "GetExecutionMetrics", None)
        if method is None:
            return None
        request = admin_pb2.WorkflowExecutionGetMetricsRequest(id=execution_id, depth=2)
        try:
            answer: admin_pb2.WorkflowExecutionGetMetricsResponse = method(request)
        except AdminError as error:
            log.debug("console: no metrics for %s: %s", execution_id.name, error.message)
            return None
        return answer.span

    def signals(self, execution_id: identifier_pb2.WorkflowExecutionIdentifier) -> list[signal_pb2.Signal]:
        """The execution's signals (ListSignals), those still waiting for a value included."""

        def fetch(token: str) -> tuple[list[Any], str]:
            request = signal_pb2.SignalListRequest(workflow_execution_id=execution_id, limit=PAGE_SIZE, token=token)
            answer = self.executions.ListSignals(request)
            return list(answer.signals), answer.token

        return list(self._pages(fetch))

    # Node and task executions ------------------------------------------------------------------------------------

    def nodes(
        self, execution_id: identifier_pb2.WorkflowExecutionIdentifier, parent: str = ""
    ) -> list[node_execution_pb2.NodeExecution]:
        """Top-level node executions, or the children of the node ``parent`` (ListNodeExecutions)."""

        def fetch(token: str) -> tuple[list[Any], str]:
            request = node_execution_pb2.NodeExecutionListRequest(
                workflow_execution_id=execution_id, limit=PAGE_SIZE, token=token, unique_parent_id=parent
            )
            answer = self.executions.ListNodeExecutions(request)
            return list(answer.node_executions), answer.token

        return list(self._pages(fetch))

    def node(self, node_id: identifier_pb2.NodeExecutionIdentifier) -> node_execution_pb2.NodeExecution:
        """One node execution (GetNodeExecution).

        Raises:
            NotFound: when the execution has no such node.
        """
        what = f"node {node_id.node_id} of execution {node_id.execution_id.name}"
        request = node_execution_pb2.NodeExecutionGetRequest(id=node_id)
        return self._call(what, self.executions.GetNodeExecution, request)

    def node_data(
        self, node_id: identifier_pb2.NodeExecutionIdentifier
    ) -> node_execution_pb2.NodeExecutionGetDataResponse:
        """A node's inputs and outputs (GetNodeExecutionData)."""
        request = node_execution_pb2.NodeExecutionGetDataRequest(id=node_id)
        return self._call(f"data of node {node_id.node_id}", self.executions.GetNodeExecutionData, request)

    def attempts(self, node_id: identifier_pb2.NodeExecutionIdentifier) -> list[task_execution_pb2.TaskExecution]:
        """The task attempts of a node, oldest first (ListTaskExecutions)."""

        def fetch(token: str) -> tuple[list[Any], str]:
            request = task_execution_pb2.TaskExecutionListRequest(
                node_execution_id=node_id, limit=PAGE_SIZE, token=token
            )
            answer = self.executions.ListTaskExecutions(request)
            return list(answer.task_executions), answer.token

        return sorted(self._pages(fetch), key=lambda attempt: attempt.id.retry_attempt)

    def task_data(
        self, attempt_id: identifier_pb2.TaskExecutionIdentifier
    ) -> task_execution_pb2.TaskExecutionGetDataResponse:
        """A task attempt's inputs and outputs (GetTaskExecutionData)."""
        request = task_execution_pb2.TaskExecutionGetDataRequest(id=attempt_id)
        return self._call("data of the task attempt", self.executions.GetTaskExecutionData, request)

    # Entities ----------------------------------------------------------------------------------------------------

    def launch_plans(self, project: str, domain: str, name: str = "") -> list[launch_plan_pb2.LaunchPlan]:
        """Launch plan versions of a project/domain (or of one name), newest first (ListLaunchPlans)."""
        return self._entities(self.registry.ListLaunchPlans, "launch_plans", project, domain, name)

    def tasks(self, project: str, domain: str, name: str = "") -> list[task_pb2.Task]:
        """Task versions of a project/domain (or of one name), newest first (ListTasks)."""
        return self._entities(self.registry.ListTasks, "tasks", project, domain, name)

    def workflows(self, project: str, domain: str, name: str = "") -> list[workflow_pb2.Workflow]:
        """Workflow versions of a project/domain (or of one name), newest first (ListWorkflows)."""
        return self._entities(self.registry.ListWorkflows, "workflows", project, domain, name)

    def _entities(
        self, method: Callable[[common_pb2.ResourceListRequest], Any], field: str, project: str, domain: str, name: str
    ) -> list[Any]:
        def fetch(token: str) -> tuple[list[Any], str]:
            request = common_pb2.ResourceListRequest(
                id=common_pb2.NamedEntityIdentifier(project=project, domain=domain, name=name),
                limit=PAGE_SIZE,
                token=token,
                sort_by=newest_first(),
            )
            answer = method(request)
            return list(getattr(answer, field)), answer.token

        return list(self._pages(fetch))

    def launch_plan(self, identifier: identifier_pb2.Identifier) -> launch_plan_pb2.LaunchPlan:
        """One launch plan version (GetLaunchPlan).

        Raises:
            NotFound: when there is no such version.
        """
        request = common_pb2.ObjectGetRequest(id=identifier)
        return self._call(_entity_text("launch plan", identifier), self.registry.GetLaunchPlan, request)

    def task(self, identifier: identifier_pb2.Identifier) -> task_pb2.Task:
        """One task version (GetTask).

        Raises:
            NotFound: when there is no such version.
        """
        request = common_pb2.ObjectGetRequest(id=identifier)
        return self._call(_entity_text("task", identifier), self.registry.GetTask, request)

    def workflow(self, identifier: identifier_pb2.Identifier) -> workflow_pb2.Workflow:
        """One workflow version (GetWorkflow).

        Raises:
            NotFound: when there is no such version.
        """
        request = common_pb2.ObjectGetRequest(id=identifier)
        return self._call(_entity_text("workflow", identifier), self.registry.GetWorkflow, request)

    def active_launch_plan(self, project: str, domain: str, name: str) -> launch_plan_pb2.LaunchPlan | None:
        """The active version of a launch plan name (GetActiveLaunchPlan), or ``None``."""
        request = launch_plan_pb2.ActiveLaunchPlanRequest(
            id=common_pb2.NamedEntityIdentifier(project=project, domain=domain, name=name)
        )
        try:
            return self._call(f"active launch plan {name}", self.registry.GetActiveLaunchPlan, request)
        except NotFound:
            return None

    def workflow_interface(self, identifier: identifier_pb2.Identifier) -> interface_pb2.TypedInterface | None:
        """The typed interface of a workflow version, or ``None`` when it cannot be read."""
        try:
            workflow = self.workflow(identifier)
        except (NotFound, AdminError):
            return None
        return workflow.closure.compiled_workflow.primary.template.interface


def _entity_text(kind: str, identifier: identifier_pb2.Identifier) -> str:
    return f"{kind} {identifier.project}/{identifier.domain}/{identifier.name} version {identifier.version}"


# Values --------------------------------------------------------------------------------------------------------------


def readable(literal: literals_pb2.Literal, literal_type: types_pb2.LiteralType | None = None) -> tuple[bool, Any]:
    """A literal as a JSON-able Python value, read with the provider's codec.

    The declared type guides the reading when given; a literal that does not fit it is read by its own shape.

    Returns:
        ``(True, value)``, or ``(False, why)`` when the literal cannot be read (an offloaded literal, say).
    """
    from airflow_provider_flyte.literals import to_json_able, to_python

    try:
        value = to_python(literal, literal_type)
    except Exception:
        try:
            value = to_python(literal)
        except Exception as error:
            return False, str(error)
    try:
        return True, to_json_able(value)
    except (TypeError, ValueError):
        return True, repr(value)


def type_text(literal_type: types_pb2.LiteralType) -> str:
    """A literal type as Python-like text (``list[int]``, ``Optional[str]``...)."""
    from airflow_provider_flyte.literals import literal_type_to_str

    return literal_type_to_str(literal_type)


def declared(variables: interface_pb2.VariableMap | None) -> dict[str, types_pb2.LiteralType]:
    """Variable names to their declared types (empty when unknown)."""
    if variables is None:
        return {}
    return {name: variable.type for name, variable in variables.variables.items()}
