"""Admin RPCs for registered things.

Projects, tasks, workflows, launch plans, named and description entities, matchable attributes and the version.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from flyteidl.admin import (
    common_pb2,
    description_entity_pb2,
    launch_plan_pb2,
    matchable_resource_pb2,
    project_attributes_pb2,
    project_domain_attributes_pb2,
    project_pb2,
    task_pb2,
    version_pb2,
    workflow_attributes_pb2,
    workflow_pb2,
)
from flyteidl.core import compiler_pb2, identifier_pb2, interface_pb2, types_pb2

from flyte_admin_sandbox import compiler
from flyte_admin_sandbox.common import (
    DEFAULT_DOMAINS,
    PROJECT_ACTIVE,
    diff,
    digest,
    list_page,
    require,
    sort_of,
    validate_identifier,
    where_query,
)
from flyte_admin_sandbox.cron import CronError, validate_cron
from flyte_admin_sandbox.errors import (
    AdminError,
    already_exists,
    duplicate_key,
    entity_not_found,
    invalid,
    invalid_argument,
    missing_argument,
    not_found,
    prototext,
)
from flyte_admin_sandbox.filters import (
    DESCRIPTION_ENTITY,
    LAUNCH_PLAN,
    NAMED_ENTITY,
    PROJECT,
    TASK,
    WORKFLOW,
    Query,
    check_limit,
    format_timestamp,
    next_token,
    offset_from_token,
)
from flyte_admin_sandbox.records import parse_stored, timestamp
from flyte_admin_sandbox.store import Store, now
from flyte_admin_sandbox.typing_rules import is_castable, literal_fits, literal_type_of
from flyte_admin_sandbox.version import __version__

# The Flyte Admin release whose behaviour the sandbox follows (shared/reference/flyteadmin-semantics.md baseline).
EMULATED_VERSION = "v1.16.8"

RT = identifier_pb2.ResourceType
LaunchPlanState = launch_plan_pb2.LaunchPlanState
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_LABEL_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_DNS_LABEL_MESSAGE = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end "
    "with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
_LABEL_MESSAGE = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
_TABLE_OF = {RT.TASK: "tasks", RT.WORKFLOW: "workflows", RT.LAUNCH_PLAN: "launch_plans"}
_PRIORITY = {"project": 5, "project_domain": 10, "workflow": 100, "launch_plan": 1000}
KICKOFF_TIME_ARG = "kickoff_time_input_arg"
FLYTEGEN_PREFIX = ".flytegen."


def validate_labels(labels: dict[str, str] | Any) -> None:
    """Kubernetes label rules: at most 16 entries, qualified-name keys, valid values.

    Raises:
        AdminError: ``labels map cannot exceed 16 entries`` / ``invalid label key [...]`` / ``invalid label value``.
    """
    if len(labels) > 16:
        raise invalid("labels map cannot exceed 16 entries")
    for key, value in labels.items():
        name = key.rpartition("/")[2]
        problems = []
        if len(name) > 63:
            problems.append("name part must be no more than 63 characters")
        if not _LABEL_NAME.fullmatch(name):
            problems.append(_LABEL_MESSAGE)
        if problems:
            raise invalid(f"invalid label key [{key}]: [{' '.join(problems)}]")
        if value and (len(value) > 63 or not _LABEL_NAME.fullmatch(value)):
            raise invalid(f"invalid label value [{value}]: [{_LABEL_MESSAGE.replace('name part', 'a valid label')}]")


def _row_stamp(row: sqlite3.Row, column: str = "created_at") -> Any:
    moment = parse_stored(row[column])
    return timestamp(moment) if moment is not None else None


def entity_id(row: sqlite3.Row, resource_type: identifier_pb2.ResourceType) -> identifier_pb2.Identifier:
    """The identifier of a task, workflow or launch-plan row."""
    return identifier_pb2.Identifier(
        resource_type=resource_type,
        project=row["project"],
        domain=row["domain"],
        name=row["name"],
        version=row["version"],
    )


class Registry:
    """Projects, entities and attributes over a :class:`Store`.

    Args:
        store: The database.
        domains: The configured domains (Flyte Admin's defaults: development, staging, production).
        version: The control plane version :meth:`GetVersion` reports.
    """

    def __init__(
        self, store: Store, domains: tuple[str, ...] = DEFAULT_DOMAINS, version: str = EMULATED_VERSION
    ) -> None:
        self.store = store
        self.domains = domains
        self.version = version

    # Projects ----------------------------------------------------------------------------------------------------

    def check_project_domain(self, project: str, domain: str) -> None:
        """Flyte Admin's ``ValidateProjectAndDomain``.

        Raises:
            AdminError: unknown project, inactive project or unknown domain, with Flyte Admin's texts.
        """
        row = self.store.one("SELECT state FROM projects WHERE identifier = ?", (project,))
        if row is None:
            raise invalid(
                f"failed to validate that project [{project}] and domain [{domain}] are registered, "
                f"err: [project [{project}] not found]"
            )
        if row["state"] != PROJECT_ACTIVE:
            raise invalid(f"project [{project}] is not active", project_pb2.InactiveProject(id=project))
        if domain not in self.domains:
            raise invalid(f"domain [{domain}] is unrecognized by system")

    def _project_proto(self, row: sqlite3.Row) -> project_pb2.Project:
        project = project_pb2.Project.FromString(row["body"])
        del project.domains[:]
        project.domains.extend(project_pb2.Domain(id=domain, name=domain) for domain in self.domains)
        return project

    def _validate_project_fields(self, project: project_pb2.Project, name_required: bool) -> None:
        if not project.id:
            raise missing_argument("project_id")
        if name_required and not project.name:
            raise missing_argument("project_name")
        validate_labels(project.labels.values)
        problems = []
        if len(project.id) > 63:
            problems.append("must be no more than 63 characters")
        if not _DNS_LABEL.fullmatch(project.id):
            problems.append(_DNS_LABEL_MESSAGE)
        if problems:
            raise invalid(f"invalid project id [{project.id}]: [{' '.join(problems)}]")
        if len(project.name) > 64:
            raise invalid("project_name cannot exceed 64 characters")
        if len(project.description) > 300:
            raise invalid("project_description cannot exceed 300 characters")

    def RegisterProject(self, request: project_pb2.ProjectRegisterRequest) -> project_pb2.ProjectRegisterResponse:
        """Register a project (its id must be a DNS-1123 label; domains are system-wide)."""
        if not request.HasField("project"):
            raise missing_argument("project")
        project = request.project
        if not project.name:
            raise missing_argument("project_name")
        self._validate_project_fields(project, name_required=True)
        if project.domains:
            raise invalid(
                "Domains are currently only set system wide. Please retry without domains included in your request."
            )
        try:
            self.store.insert(
                "projects",
                {
                    "identifier": project.id,
                    "name": project.name,
                    "description": project.description,
                    "labels": project.labels.SerializeToString(),
                    "state": project.state,
                    "body": project.SerializeToString(),
                },
            )
        except sqlite3.IntegrityError:
            raise duplicate_key("projects_pkey") from None
        return project_pb2.ProjectRegisterResponse()

    def UpdateProject(self, request: project_pb2.Project) -> project_pb2.ProjectUpdateResponse:
        """Update a project's non-empty fields and its state (archive with ``state=ARCHIVED``)."""
        require(request.id, "project_id")
        with self.store.transaction():
            row = self.store.one("SELECT * FROM projects WHERE identifier = ?", (request.id,))
            if row is None:
                raise not_found(f"project [{request.id}] not found")
            self._validate_project_fields(request, name_required=False)
            stored = project_pb2.Project.FromString(row["body"])
            if request.name:
                stored.name = request.name
            if request.description:
                stored.description = request.description
            if request.labels.values:
                stored.labels.CopyFrom(request.labels)
            stored.state = request.state
            self.store.update(
                "projects",
                row["id"],
                {
                    "name": stored.name,
                    "description": stored.description,
                    "labels": stored.labels.SerializeToString(),
                    "state": stored.state,
                    "body": stored.SerializeToString(),
                },
            )
        return project_pb2.ProjectUpdateResponse()

    def GetProject(self, request: project_pb2.ProjectGetRequest) -> project_pb2.Project:
        """One project, with every configured domain."""
        require(request.id, "project_id")
        row = self.store.one("SELECT * FROM projects WHERE identifier = ?", (request.id,))
        if row is None:
            raise not_found(f"project [{request.id}] not found")
        return self._project_proto(row)

    def ListProjects(self, request: project_pb2.ProjectListRequest) -> project_pb2.Projects:
        """Projects sorted by id; archived ones are hidden unless a filter is given."""
        offset = offset_from_token(request.token, "ListProjects")
        query = Query(PROJECT)
        if request.filters:
            query.apply_filters(request.filters)
        else:
            query.condition("projects.state <> 1")
        if request.HasField("sort_by") and request.sort_by.key:
            query.sort(request.sort_by.key, request.sort_by.direction)
        else:
            query.order_by = "projects.identifier ASC"
        limit = request.limit if request.limit > 0 else -1
        rows = self.store.page(query, limit, offset)
        projects = [self._project_proto(row) for row in rows]
        token = next_token(offset, len(rows), request.limit) if request.limit > 0 else ""
        if request.limit == 0 and not rows:
            token = "0"
        return project_pb2.Projects(projects=projects, token=token)

    def GetDomains(self, request: project_pb2.GetDomainRequest) -> project_pb2.GetDomainsResponse:
        """The configured domains, in configuration order."""
        return project_pb2.GetDomainsResponse(
            domains=[project_pb2.Domain(id=domain, name=domain) for domain in self.domains]
        )

    # Tasks -------------------------------------------------------------------------------------------------------

    def _check_task(self, request: task_pb2.TaskCreateRequest) -> compiler_pb2.CompiledTask:
        validate_identifier(request.id if request.HasField("id") else None, RT.TASK)
        self.check_project_domain(request.id.project, request.id.domain)
        if not request.HasField("spec") or not request.spec.HasField("template"):
            raise missing_argument("spec")
        template = request.spec.template
        if not template.type:
            raise missing_argument("type")
        if not template.HasField("metadata"):
            raise missing_argument("metadata")
        if template.metadata.HasField("runtime") and not template.metadata.runtime.version:
            raise missing_argument("runtime version")
        if not template.HasField("interface"):
            raise missing_argument("typed interface")
        if template.WhichOneof("target") == "container":
            if not template.container.image:
                raise missing_argument("image")
            has_io = template.interface.inputs.variables or template.interface.outputs.variables
            if has_io and not template.container.command and not template.container.args:
                raise invalid(
                    "task failed compilation with Collected Errors: 1\n\tError 0: Code: ValueRequired, "
                    f"Node Id: {request.id.name}, Description: Value required [command].\n"
                )
        compiled = compiler_pb2.CompiledTask(template=template)
        compiled.template.id.CopyFrom(request.id)
        return compiled

    def CreateTask(self, request: task_pb2.TaskCreateRequest) -> task_pb2.TaskCreateResponse:
        """Register a task version: identical again -> ALREADY_EXISTS, different -> INVALID_ARGUMENT with a diff."""
        compiled = self._check_task(request)
        self.insert_task(
            request.id, compiled, request.spec.description if request.spec.HasField("description") else None
        )
        return task_pb2.TaskCreateResponse()

    def insert_task(
        self,
        identifier: identifier_pb2.Identifier,
        compiled: compiler_pb2.CompiledTask,
        description: description_entity_pb2.DescriptionEntity | None = None,
    ) -> None:
        """Store a compiled task, with Flyte Admin's existing-version rules."""
        task_digest = digest(compiled)
        with self.store.transaction():
            existing = self._row("tasks", identifier)
            if existing is not None:
                old = task_pb2.TaskClosure.FromString(existing["closure"]).compiled_task
                if existing["digest"] == task_digest:
                    raise already_exists("task with identical structure already exists")
                raise invalid(
                    f"{identifier.name} task with different structure already exists. "
                    f"(Please register a new version of the task):\n{diff(old, compiled)}"
                )
            stamp = now()
            closure = task_pb2.TaskClosure(compiled_task=compiled, created_at=timestamp(stamp))
            short = description.short_description if description is not None else ""
            self.store.insert(
                "tasks",
                {
                    **self._id_columns(identifier),
                    "closure": closure.SerializeToString(),
                    "digest": task_digest,
                    "type": compiled.template.type,
                    "short_description": short,
                    "created_at": format_timestamp(stamp),
                    "updated_at": format_timestamp(stamp),
                },
            )
            if description is not None:
                self._insert_description(RT.TASK, identifier, description)

    def _insert_description(
        self,
        resource_type: identifier_pb2.ResourceType,
        identifier: identifier_pb2.Identifier,
        description: description_entity_pb2.DescriptionEntity,
    ) -> None:
        entity = description_entity_pb2.DescriptionEntity()
        entity.CopyFrom(description)
        entity.id.CopyFrom(identifier)
        entity.id.resource_type = resource_type
        self.store.execute(
            "INSERT OR REPLACE INTO description_entities (created_at, updated_at, resource_type, project, domain, "
            "name, version, short_description, long_description, link, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                format_timestamp(now()),
                format_timestamp(now()),
                resource_type,
                identifier.project,
                identifier.domain,
                identifier.name,
                identifier.version,
                description.short_description,
                description.long_description.SerializeToString(),
                description.source_code.link,
                entity.SerializeToString(),
            ),
        )

    @staticmethod
    def _id_columns(identifier: identifier_pb2.Identifier) -> dict[str, str]:
        return {
            "project": identifier.project,
            "domain": identifier.domain,
            "name": identifier.name,
            "version": identifier.version,
        }

    def _row(self, table: str, identifier: identifier_pb2.Identifier, any_version: bool = False) -> sqlite3.Row | None:
        if any_version and not identifier.version:
            return self.store.one(
                f"SELECT * FROM {table} WHERE project = ? AND domain = ? AND name = ? ORDER BY id DESC",
                (identifier.project, identifier.domain, identifier.name),
            )
        return self.store.one(
            f"SELECT * FROM {table} WHERE project = ? AND domain = ? AND name = ? AND version = ?",
            (identifier.project, identifier.domain, identifier.name, identifier.version),
        )

    @staticmethod
    def task_proto(row: sqlite3.Row) -> task_pb2.Task:
        """The ``admin.Task`` of a row."""
        closure = task_pb2.TaskClosure.FromString(row["closure"])
        return task_pb2.Task(
            id=entity_id(row, RT.TASK), closure=closure, short_description=row["short_description"] or ""
        )

    def task_row(self, identifier: identifier_pb2.Identifier) -> sqlite3.Row:
        """A task row by exact id (an empty version matches any version, as Flyte Admin's query does).

        Raises:
            AdminError: ``NOT_FOUND missing entity of type TASK ...``.
        """
        row = self._row("tasks", identifier, any_version=True)
        if row is None:
            raise entity_not_found("TASK", identifier)
        return row

    def GetTask(self, request: common_pb2.ObjectGetRequest) -> task_pb2.Task:
        """One task version."""
        return self.task_proto(self.task_row(request.id))

    def _list_entities(
        self, request: common_pb2.ResourceListRequest, model: Any, rpc: str
    ) -> tuple[list[sqlite3.Row], str]:
        if not request.HasField("id"):
            raise missing_argument("id")
        require(request.id.project, "project")
        require(request.id.domain, "domain")
        check_limit(request.limit)
        query = where_query(model, project=request.id.project, domain=request.id.domain, name=request.id.name)
        return list_page(
            self.store,
            query,
            limit=request.limit,
            token=request.token,
            rpc=rpc,
            sort_by=sort_of(request),
            filters=request.filters,
            convert=lambda row: row,
        )

    def ListTasks(self, request: common_pb2.ResourceListRequest) -> task_pb2.TaskList:
        """Task versions of a project/domain (of one name when ``id.name`` is set)."""
        rows, token = self._list_entities(request, TASK, "ListTasks")
        return task_pb2.TaskList(tasks=[self.task_proto(row) for row in rows], token=token)

    def _list_ids(
        self, request: common_pb2.NamedEntityIdentifierListRequest, table: str, rpc: str, validate: bool = True
    ) -> common_pb2.NamedEntityIdentifierList:
        if validate:
            require(request.project, "project")
            require(request.domain, "domain")
            check_limit(request.limit)
        elif request.limit <= 0:
            raise invalid("missing and/or invalid parameters: limit")
        offset = offset_from_token(request.token, rpc)
        model = {"tasks": TASK, "workflows": WORKFLOW, "launch_plans": LAUNCH_PLAN}[table]
        order = "MIN(id) ASC"
        if request.HasField("sort_by") and request.sort_by.key:
            Query(model).sort(request.sort_by.key, request.sort_by.direction)
            direction = "DESC" if request.sort_by.direction == 0 else "ASC"
            order = f"MAX({request.sort_by.key}) {direction}, MIN(id) ASC"
        rows = self.store.all(
            f"SELECT project, domain, name FROM {table} WHERE project = ? AND domain = ? "
            f"GROUP BY project, domain, name ORDER BY {order} LIMIT ? OFFSET ?",
            (request.project, request.domain, request.limit, offset),
        )
        entities = [
            common_pb2.NamedEntityIdentifier(project=row["project"], domain=row["domain"], name=row["name"])
            for row in rows
        ]
        return common_pb2.NamedEntityIdentifierList(
            entities=entities, token=next_token(offset, len(rows), request.limit)
        )

    def ListTaskIds(self, request: common_pb2.NamedEntityIdentifierListRequest) -> common_pb2.NamedEntityIdentifierList:
        """Distinct task names of a project/domain (filters are ignored, as in Flyte Admin)."""
        return self._list_ids(request, "tasks", "ListUniqueTaskIdentifiers")

    # Workflows ---------------------------------------------------------------------------------------------------

    def compile_workflow(self, request: workflow_pb2.WorkflowCreateRequest) -> compiler_pb2.CompiledWorkflowClosure:
        """Compile a workflow against the registered tasks and launch plans.

        Raises:
            AdminError: ``failed to compile workflow for [<id>] with err: ...``.
        """
        template = workflow_pb2.WorkflowSpec()
        template.CopyFrom(request.spec)
        template.template.id.CopyFrom(request.id)
        subs = list(template.sub_workflows)
        try:
            needs = compiler.get_requirements(template.template, subs)
            tasks = [
                task_pb2.TaskClosure.FromString(self.task_row(task_id)["closure"]).compiled_task
                for task_id in needs.task_ids
            ]
            interfaces = {}
            for lp_id in needs.launch_plan_ids:
                plan = self.launch_plan_proto(self.launch_plan_row(lp_id))
                key = (lp_id.project, lp_id.domain, lp_id.name, lp_id.version)
                interfaces[key] = compiler.launch_plan_interface(
                    plan.closure.expected_inputs, plan.closure.expected_outputs
                )
            return compiler.compile_workflow(template.template, subs, tasks, interfaces)
        except (compiler.CompileError, AdminError) as error:
            text = error.message if isinstance(error, AdminError) else str(error)
            raise invalid(f"failed to compile workflow for [{prototext(request.id)}] with err: {text}") from None

    def CreateWorkflow(self, request: workflow_pb2.WorkflowCreateRequest) -> workflow_pb2.WorkflowCreateResponse:
        """Compile and register a workflow version."""
        validate_identifier(request.id if request.HasField("id") else None, RT.WORKFLOW)
        self.check_project_domain(request.id.project, request.id.domain)
        if not request.HasField("spec") or not request.spec.HasField("template"):
            raise missing_argument("spec")
        closure = self.compile_workflow(request)
        description = request.spec.description if request.spec.HasField("description") else None
        self.insert_workflow(request.id, closure, description)
        return workflow_pb2.WorkflowCreateResponse()

    def insert_workflow(
        self,
        identifier: identifier_pb2.Identifier,
        compiled: compiler_pb2.CompiledWorkflowClosure,
        description: description_entity_pb2.DescriptionEntity | None = None,
    ) -> None:
        """Store a compiled workflow, with Flyte Admin's existing-version rules."""
        workflow_digest = digest(compiled)
        with self.store.transaction():
            existing = self._row("workflows", identifier)
            if existing is not None:
                detail_id = identifier_pb2.Identifier()
                detail_id.CopyFrom(identifier)
                if existing["digest"] == workflow_digest:
                    detail = workflow_pb2.CreateWorkflowFailureReason(
                        exists_identical_structure=workflow_pb2.WorkflowErrorExistsIdenticalStructure(id=detail_id)
                    )
                    raise already_exists("workflow with identical structure already exists", detail)
                old = workflow_pb2.WorkflowClosure.FromString(existing["closure"]).compiled_workflow
                detail = workflow_pb2.CreateWorkflowFailureReason(
                    exists_different_structure=workflow_pb2.WorkflowErrorExistsDifferentStructure(id=detail_id)
                )
                raise invalid(
                    f"{identifier.name} workflow with different structure already exists. "
                    f"(Please register a new version of the workflow):\n{diff(old, compiled)}",
                    detail,
                )
            stamp = now()
            closure = workflow_pb2.WorkflowClosure(compiled_workflow=compiled, created_at=timestamp(stamp))
            self.store.insert(
                "workflows",
                {
                    **self._id_columns(identifier),
                    "typed_interface": compiled.primary.template.interface.SerializeToString(),
                    "remote_closure_identifier": (
                        f"s3://my-s3-bucket/metadata/admin/{identifier.project}/{identifier.domain}/"
                        f"{identifier.name}/{identifier.version}"
                    ),
                    "digest": workflow_digest,
                    "short_description": description.short_description if description is not None else "",
                    "closure": closure.SerializeToString(),
                    "created_at": format_timestamp(stamp),
                    "updated_at": format_timestamp(stamp),
                },
            )
            if description is not None:
                self._insert_description(RT.WORKFLOW, identifier, description)

    @staticmethod
    def workflow_proto(row: sqlite3.Row, skeleton: bool = False) -> workflow_pb2.Workflow:
        """The ``admin.Workflow`` of a row; lists return only the interface (Flyte Admin's skeleton)."""
        if skeleton:
            closure = workflow_pb2.WorkflowClosure(created_at=_row_stamp(row))
            interface = interface_pb2.TypedInterface.FromString(row["typed_interface"])
            closure.compiled_workflow.primary.template.interface.CopyFrom(interface)
        else:
            closure = workflow_pb2.WorkflowClosure.FromString(row["closure"])
        return workflow_pb2.Workflow(
            id=entity_id(row, RT.WORKFLOW), closure=closure, short_description=row["short_description"] or ""
        )

    def workflow_row(self, identifier: identifier_pb2.Identifier) -> sqlite3.Row:
        """A workflow row by exact id.

        Raises:
            AdminError: ``NOT_FOUND missing entity of type WORKFLOW ...``.
        """
        row = self._row("workflows", identifier)
        if row is None:
            raise entity_not_found("WORKFLOW", identifier)
        return row

    def GetWorkflow(self, request: common_pb2.ObjectGetRequest) -> workflow_pb2.Workflow:
        """One workflow version with its full compiled closure."""
        for field in ("project", "domain", "name", "version"):
            require(getattr(request.id, field), field)
        return self.workflow_proto(self.workflow_row(request.id))

    def ListWorkflows(self, request: common_pb2.ResourceListRequest) -> workflow_pb2.WorkflowList:
        """Workflow versions (skeleton closures)."""
        rows, token = self._list_entities(request, WORKFLOW, "ListWorkflows")
        return workflow_pb2.WorkflowList(
            workflows=[self.workflow_proto(row, skeleton=True) for row in rows], token=token
        )

    def ListWorkflowIds(
        self, request: common_pb2.NamedEntityIdentifierListRequest
    ) -> common_pb2.NamedEntityIdentifierList:
        """Distinct workflow names of a project/domain."""
        return self._list_ids(request, "workflows", "ListWorkflowIdentifiers")

    # Launch plans ------------------------------------------------------------------------------------------------

    def CreateLaunchPlan(
        self, request: launch_plan_pb2.LaunchPlanCreateRequest
    ) -> launch_plan_pb2.LaunchPlanCreateResponse:
        """Check a launch plan against its workflow, expand its expected inputs and store it INACTIVE."""
        spec = request.spec if request.HasField("spec") else None
        validate_identifier(
            spec.workflow_id if spec is not None and spec.HasField("workflow_id") else None, RT.WORKFLOW
        )
        assert spec is not None
        workflow = self.workflow_row(spec.workflow_id)
        validate_identifier(request.id if request.HasField("id") else None, RT.LAUNCH_PLAN)
        self.check_project_domain(request.id.project, request.id.domain)
        interface = interface_pb2.TypedInterface.FromString(workflow["typed_interface"])
        plan = self.build_launch_plan(request.id, spec, interface)
        self.insert_launch_plan(plan, workflow["id"])
        return launch_plan_pb2.LaunchPlanCreateResponse()

    def build_launch_plan(
        self,
        identifier: identifier_pb2.Identifier,
        spec: launch_plan_pb2.LaunchPlanSpec,
        interface: interface_pb2.TypedInterface,
    ) -> launch_plan_pb2.LaunchPlan:
        """Validate a launch plan spec against a workflow interface and expand its default inputs.

        Raises:
            AdminError: with Flyte Admin's launch-plan validation texts.
        """
        validate_labels(spec.labels.values)
        for name, literal in spec.fixed_inputs.literals.items():
            if not name:
                raise invalid("missing key in fixed_inputs")
            if literal.WhichOneof("value") is None:
                raise invalid(f"missing valid literal in fixed_inputs {name}")
        for name, parameter in spec.default_inputs.parameters.items():
            if not parameter.HasField("var") or not parameter.var.HasField("type"):
                raise invalid(
                    f"The Variable component of the Parameter {name} in default_inputs either is missing, or has a "
                    "missing Type"
                )
            behavior = parameter.WhichOneof("behavior")
            if behavior is None and not parameter.required:
                raise invalid(
                    f"Invalid variable {name} in default_inputs - variable has neither default, nor is required. "
                    "One must be specified"
                )
            if behavior == "default" and not literal_fits(parameter.default, parameter.var.type):
                raise invalid(
                    f"Type mismatch for Parameter {name} in default_inputs has type "
                    f"{prototext(literal_type_of(parameter.default))}, expected {prototext(parameter.var.type)}"
                )
        workflow_inputs = dict(interface.inputs.variables)
        if not workflow_inputs:
            if spec.default_inputs.parameters:
                raise invalid(
                    f"invalid launch plan default inputs, expected none but found {len(spec.default_inputs.parameters)}"
                )
            if spec.fixed_inputs.literals:
                raise invalid(
                    f"invalid launch plan fixed inputs, expected none but found {len(spec.fixed_inputs.literals)}"
                )
        for name, parameter in spec.default_inputs.parameters.items():
            expected = workflow_inputs.get(name)
            if expected is None:
                raise invalid(f"unexpected default_input {name}")
            if not is_castable(parameter.var.type, expected.type):
                raise invalid(
                    f"invalid default_input wrong type {name}, expected {prototext(expected.type)}, "
                    f"got {prototext(parameter.var.type)} instead"
                )
        for name, literal in spec.fixed_inputs.literals.items():
            expected = workflow_inputs.get(name)
            if expected is None:
                raise invalid(f"unexpected fixed_input {name}")
            if not literal_fits(literal, expected.type):
                raise invalid(
                    f"invalid fixed_input wrong type {name}, expected {prototext(expected.type)}, "
                    f"got {prototext(literal_type_of(literal))} instead"
                )
        expanded = interface_pb2.ParameterMap()
        for name, variable in workflow_inputs.items():
            if name in spec.default_inputs.parameters:
                expanded.parameters[name].CopyFrom(spec.default_inputs.parameters[name])
            elif name not in spec.fixed_inputs.literals:
                expanded.parameters[name].CopyFrom(
                    interface_pb2.Parameter(
                        var=interface_pb2.Variable(type=variable.type, description=variable.description),
                        required=True,
                    )
                )
        self._check_schedule(spec, expanded, workflow_inputs)
        if spec.entity_metadata.HasField("launch_conditions"):
            raise invalid("launch condition must be empty, found a launch condition")
        augmented = launch_plan_pb2.LaunchPlanSpec()
        augmented.CopyFrom(spec)
        augmented.default_inputs.CopyFrom(expanded)
        plan_id = identifier_pb2.Identifier()
        plan_id.CopyFrom(identifier)
        plan_id.resource_type = RT.LAUNCH_PLAN
        closure = launch_plan_pb2.LaunchPlanClosure(expected_inputs=expanded, expected_outputs=interface.outputs)
        return launch_plan_pb2.LaunchPlan(id=plan_id, spec=augmented, closure=closure)

    @staticmethod
    def _check_schedule(
        spec: launch_plan_pb2.LaunchPlanSpec,
        expected: interface_pb2.ParameterMap,
        workflow_inputs: dict[str, interface_pb2.Variable],
    ) -> None:
        if not spec.entity_metadata.HasField("schedule"):
            return
        schedule = spec.entity_metadata.schedule
        kickoff = schedule.kickoff_time_input_arg
        for name, parameter in expected.parameters.items():
            if parameter.required and parameter.WhichOneof("behavior") != "default" and name != kickoff:
                raise invalid(
                    f"Cannot create a launch plan with a schedule if there is an unbound required input. [{name}] is "
                    "required"
                )
        if kickoff:
            variable = workflow_inputs.get(kickoff)
            if variable is None or kickoff in spec.fixed_inputs.literals:
                raise invalid(
                    "Cannot create a schedule with a KickoffTimeInputArg that does not point to a free input. "
                    f"[{kickoff}] is not free or does not exist."
                )
            if variable.type.simple != types_pb2.SimpleType.DATETIME:
                raise invalid(
                    f"KickoffTimeInputArg must reference a datetime input. [{kickoff}] is a [{variable.type}]"
                )
        kind = schedule.WhichOneof("ScheduleExpression")
        expression = ""
        if kind == "cron_expression":
            expression = schedule.cron_expression
        elif kind == "cron_schedule":
            expression = schedule.cron_schedule.schedule
        elif kind == "rate" and schedule.rate.value <= 0:
            raise invalid("rate value must be positive")
        if expression:
            try:
                validate_cron(expression)
            except CronError as error:
                raise invalid(f"Invalid cron expression: {error}") from None

    def insert_launch_plan(self, plan: launch_plan_pb2.LaunchPlan, workflow_row_id: int, state: int = 0) -> None:
        """Store a launch plan (INACTIVE unless told), with Flyte Admin's existing-version rules."""
        plan_digest = digest(plan)
        schedule = plan.spec.entity_metadata.schedule
        kind = schedule.WhichOneof("ScheduleExpression") if plan.spec.entity_metadata.HasField("schedule") else None
        schedule_type = {"cron_expression": "CRON", "cron_schedule": "CRON", "rate": "RATE"}.get(kind or "", "NONE")
        with self.store.transaction():
            existing = self._row("launch_plans", plan.id)
            if existing is not None:
                if existing["digest"] == plan_digest:
                    raise already_exists("launch plan with identical structure already exists")
                old = self.launch_plan_proto(existing)
                old.closure.Clear()
                new = launch_plan_pb2.LaunchPlan()
                new.CopyFrom(plan)
                new.closure.Clear()
                raise invalid(
                    f"{plan.id.name} launch plan with different structure already exists. "
                    f"(Please register a new version of the launch plan):\n{diff(old, new)}"
                )
            closure = launch_plan_pb2.LaunchPlanClosure()
            closure.CopyFrom(plan.closure)
            self.store.insert(
                "launch_plans",
                {
                    **self._id_columns(plan.id),
                    "spec": plan.spec.SerializeToString(),
                    "workflow_id": workflow_row_id,
                    "closure": closure.SerializeToString(),
                    "state": state,
                    "digest": plan_digest,
                    "schedule_type": schedule_type,
                },
            )

    @staticmethod
    def launch_plan_proto(row: sqlite3.Row) -> launch_plan_pb2.LaunchPlan:
        """The ``admin.LaunchPlan`` of a row (state and timestamps from the row)."""
        closure = launch_plan_pb2.LaunchPlanClosure.FromString(row["closure"])
        closure.state = row["state"]
        closure.created_at.CopyFrom(_row_stamp(row))
        closure.updated_at.CopyFrom(_row_stamp(row, "updated_at"))
        return launch_plan_pb2.LaunchPlan(
            id=entity_id(row, RT.LAUNCH_PLAN),
            spec=launch_plan_pb2.LaunchPlanSpec.FromString(row["spec"]),
            closure=closure,
        )

    def launch_plan_row(self, identifier: identifier_pb2.Identifier) -> sqlite3.Row:
        """A launch plan row by exact id.

        Raises:
            AdminError: ``NOT_FOUND missing entity of type LAUNCH_PLAN ...``.
        """
        row = self._row("launch_plans", identifier)
        if row is None:
            raise entity_not_found("LAUNCH_PLAN", identifier)
        return row

    def GetLaunchPlan(self, request: common_pb2.ObjectGetRequest) -> launch_plan_pb2.LaunchPlan:
        """One launch plan version."""
        for field in ("project", "domain", "name", "version"):
            require(getattr(request.id, field), field)
        return self.launch_plan_proto(self.launch_plan_row(request.id))

    def GetActiveLaunchPlan(self, request: launch_plan_pb2.ActiveLaunchPlanRequest) -> launch_plan_pb2.LaunchPlan:
        """The active version of a launch plan name."""
        for field in ("project", "domain", "name"):
            require(getattr(request.id, field), field)
        row = self.store.one(
            "SELECT * FROM launch_plans WHERE project = ? AND domain = ? AND name = ? AND state = 1",
            (request.id.project, request.id.domain, request.id.name),
        )
        if row is None:
            raise not_found(
                f"No active launch plan could be found: {request.id.project}:{request.id.domain}:{request.id.name}"
            )
        return self.launch_plan_proto(row)

    def ListActiveLaunchPlans(
        self, request: launch_plan_pb2.ActiveLaunchPlanListRequest
    ) -> launch_plan_pb2.LaunchPlanList:
        """Active launch plans of a project/domain."""
        require(request.project, "project")
        require(request.domain, "domain")
        check_limit(request.limit)
        query = where_query(LAUNCH_PLAN, project=request.project, domain=request.domain).equals("state", 1)
        plans, token = list_page(
            self.store,
            query,
            limit=request.limit,
            token=request.token,
            rpc="ListActiveLaunchPlans",
            sort_by=sort_of(request),
            convert=self.launch_plan_proto,
        )
        return launch_plan_pb2.LaunchPlanList(launch_plans=plans, token=token)

    def ListLaunchPlans(self, request: common_pb2.ResourceListRequest) -> launch_plan_pb2.LaunchPlanList:
        """Launch plan versions (filters may join ``workflow.*``)."""
        rows, token = self._list_entities(request, LAUNCH_PLAN, "ListLaunchPlans")
        return launch_plan_pb2.LaunchPlanList(launch_plans=[self.launch_plan_proto(row) for row in rows], token=token)

    def ListLaunchPlanIds(
        self, request: common_pb2.NamedEntityIdentifierListRequest
    ) -> common_pb2.NamedEntityIdentifierList:
        """Distinct launch plan names of a project/domain."""
        try:
            offset_from_token(request.token, "ListLaunchPlanIds")
        except AdminError:
            raise invalid(f"invalid pagination token {request.token}") from None
        return self._list_ids(request, "launch_plans", "ListLaunchPlanIds", validate=False)

    def UpdateLaunchPlan(
        self, request: launch_plan_pb2.LaunchPlanUpdateRequest
    ) -> launch_plan_pb2.LaunchPlanUpdateResponse:
        """Activate a version (deactivating the active one of that name) or deactivate it."""
        if request.state == LaunchPlanState.INACTIVE:
            validate_identifier(request.id if request.HasField("id") else None, RT.LAUNCH_PLAN)
            row = self.launch_plan_row(request.id)
            self.store.update("launch_plans", row["id"], {"state": LaunchPlanState.INACTIVE})
        elif request.state == LaunchPlanState.ACTIVE:
            with self.store.transaction():
                row = self.launch_plan_row(request.id)
                if row["state"] != LaunchPlanState.ACTIVE:
                    self.store.execute(
                        "UPDATE launch_plans SET state = 0, updated_at = ? WHERE project = ? AND domain = ? AND "
                        "name = ? AND state = 1",
                        (format_timestamp(now()), row["project"], row["domain"], row["name"]),
                    )
                    self.store.update("launch_plans", row["id"], {"state": LaunchPlanState.ACTIVE})
        else:
            raise invalid(
                f"Unrecognized launch plan state {request.state} for update for launch plan [{prototext(request.id)}]"
            )
        return launch_plan_pb2.LaunchPlanUpdateResponse()

    # Named and description entities -----------------------------------------------------------------------------

    def ListNamedEntities(self, request: common_pb2.NamedEntityListRequest) -> common_pb2.NamedEntityList:
        """Entity names of one resource type, with their metadata; ``.flytegen`` skeletons hidden by default."""
        require(request.project, "project")
        require(request.domain, "domain")
        check_limit(request.limit)
        if request.resource_type == RT.UNSPECIFIED:
            raise invalid_argument("resource_type")
        if request.resource_type not in _TABLE_OF:
            raise invalid(f"Cannot list entity names for resource type: {RT.Name(request.resource_type)}")
        query = where_query(NAMED_ENTITY, project=request.project, domain=request.domain).equals(
            "resource_type", request.resource_type
        )
        filters = request.filters or "not_like(name,.flytegen%)"
        entities, token = list_page(
            self.store,
            query,
            limit=request.limit,
            token=request.token,
            rpc="ListNamedEntities",
            sort_by=sort_of(request),
            filters=filters,
            convert=self._named_entity_proto,
            tiebreak="name",
        )
        return common_pb2.NamedEntityList(entities=entities, token=token)

    @staticmethod
    def _named_entity_proto(row: sqlite3.Row) -> common_pb2.NamedEntity:
        return common_pb2.NamedEntity(
            resource_type=row["resource_type"],
            id=common_pb2.NamedEntityIdentifier(project=row["project"], domain=row["domain"], name=row["name"]),
            metadata=common_pb2.NamedEntityMetadata(description=row["description"], state=row["state"]),
        )

    def _named_entity_row(self, resource_type: int, identifier: common_pb2.NamedEntityIdentifier) -> sqlite3.Row:
        if resource_type == RT.UNSPECIFIED:
            raise invalid_argument("resource_type")
        for field in ("project", "domain", "name"):
            require(getattr(identifier, field), field)
        row = self.store.one(
            "SELECT * FROM named_entities WHERE resource_type = ? AND project = ? AND domain = ? AND name = ?",
            (resource_type, identifier.project, identifier.domain, identifier.name),
        )
        if row is None:
            raise not_found("entry not found")
        return row

    def GetNamedEntity(self, request: common_pb2.NamedEntityGetRequest) -> common_pb2.NamedEntity:
        """One entity name with its metadata (description, state)."""
        return self._named_entity_proto(self._named_entity_row(request.resource_type, request.id))

    def UpdateNamedEntity(self, request: common_pb2.NamedEntityUpdateRequest) -> common_pb2.NamedEntityUpdateResponse:
        """Set an entity name's description and state (archive it)."""
        if not request.HasField("metadata"):
            raise missing_argument("metadata")
        if request.metadata.state != 0 and request.resource_type not in _TABLE_OF:
            raise invalid(f"Resource [{RT.Name(request.resource_type)}] cannot have its state updated")
        self._named_entity_row(request.resource_type, request.id)
        self.set_named_entity_metadata(request.resource_type, request.id, request.metadata)
        return common_pb2.NamedEntityUpdateResponse()

    def set_named_entity_metadata(
        self, resource_type: int, identifier: common_pb2.NamedEntityIdentifier, metadata: common_pb2.NamedEntityMetadata
    ) -> None:
        """Upsert the metadata row of an entity name."""
        stamp = format_timestamp(now())
        self.store.execute(
            "INSERT INTO named_entity_metadata (created_at, updated_at, resource_type, project, domain, name, "
            "description, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (resource_type, project, domain, name) "
            "DO UPDATE SET description = excluded.description, state = excluded.state, "
            "updated_at = excluded.updated_at",
            (
                stamp,
                stamp,
                resource_type,
                identifier.project,
                identifier.domain,
                identifier.name,
                metadata.description,
                metadata.state,
            ),
        )

    def GetDescriptionEntity(self, request: common_pb2.ObjectGetRequest) -> description_entity_pb2.DescriptionEntity:
        """The description stored with a task or workflow version."""
        if request.id.resource_type == RT.UNSPECIFIED:
            raise invalid_argument("resource_type")
        for field in ("project", "domain", "name", "version"):
            require(getattr(request.id, field), field)
        row = self.store.one(
            "SELECT body FROM description_entities WHERE resource_type = ? AND project = ? AND domain = ? AND name = ? "
            "AND version = ?",
            (request.id.resource_type, request.id.project, request.id.domain, request.id.name, request.id.version),
        )
        if row is None:
            raise entity_not_found("DESCRIPTION_ENTITY", request.id)
        return description_entity_pb2.DescriptionEntity.FromString(row["body"])

    def ListDescriptionEntities(
        self, request: description_entity_pb2.DescriptionEntityListRequest
    ) -> description_entity_pb2.DescriptionEntityList:
        """Descriptions of every version of one entity name."""
        if request.resource_type == RT.UNSPECIFIED:
            raise invalid_argument("resource_type")
        for field in ("project", "domain", "name"):
            require(getattr(request.id, field), field)
        check_limit(request.limit)
        query = where_query(
            DESCRIPTION_ENTITY,
            resource_type=request.resource_type,
            project=request.id.project,
            domain=request.id.domain,
            name=request.id.name,
        )
        entities, token = list_page(
            self.store,
            query,
            limit=request.limit,
            token=request.token,
            rpc="ListWorkflows",
            sort_by=sort_of(request),
            filters=request.filters,
            convert=lambda row: description_entity_pb2.DescriptionEntity.FromString(row["body"]),
        )
        return description_entity_pb2.DescriptionEntityList(descriptionEntities=entities, token=token)

    # Matchable attributes ----------------------------------------------------------------------------------------

    @staticmethod
    def _resource_type_of(attributes: matchable_resource_pb2.MatchingAttributes) -> int:
        kind = attributes.WhichOneof("target")
        types = {
            "task_resource_attributes": matchable_resource_pb2.TASK_RESOURCE,
            "cluster_resource_attributes": matchable_resource_pb2.CLUSTER_RESOURCE,
            "execution_queue_attributes": matchable_resource_pb2.EXECUTION_QUEUE,
            "execution_cluster_label": matchable_resource_pb2.EXECUTION_CLUSTER_LABEL,
            "plugin_overrides": matchable_resource_pb2.PLUGIN_OVERRIDE,
            "workflow_execution_config": matchable_resource_pb2.WORKFLOW_EXECUTION_CONFIG,
            "cluster_assignment": matchable_resource_pb2.CLUSTER_ASSIGNMENT,
        }
        if kind not in types:
            raise invalid(f"Unrecognized matching attributes type for request {prototext(attributes)}")
        return types[kind]

    def _check_project_for_update(self, project: str) -> None:
        row = self.store.one("SELECT state FROM projects WHERE identifier = ?", (project,))
        if row is None:
            raise invalid(
                f"failed to validate that project [{project}] is registered, err: [project [{project}] not found]"
            )
        if row["state"] != PROJECT_ACTIVE:
            raise invalid(f"project [{project}] is not active", project_pb2.InactiveProject(id=project))

    def _upsert_attributes(
        self,
        project: str,
        domain: str,
        workflow: str,
        attributes: matchable_resource_pb2.MatchingAttributes,
        level: str,
    ) -> None:
        resource_type = self._resource_type_of(attributes)
        stamp = format_timestamp(now())
        self.store.execute(
            "INSERT INTO resources (created_at, updated_at, project, domain, workflow, launch_plan, resource_type, "
            "priority, attributes) VALUES (?, ?, ?, ?, ?, '', ?, ?, ?) ON CONFLICT (project, domain, workflow, "
            "launch_plan, resource_type) DO UPDATE SET attributes = excluded.attributes, "
            "updated_at = excluded.updated_at",
            (stamp, stamp, project, domain, workflow, resource_type, _PRIORITY[level], attributes.SerializeToString()),
        )

    def _most_specific(self, project: str, domain: str, workflow: str, resource_type: int) -> sqlite3.Row:
        row = self.store.one(
            "SELECT * FROM resources WHERE project IN ('', ?) AND domain IN ('', ?) AND workflow IN ('', ?) "
            "AND launch_plan = '' AND resource_type = ? ORDER BY priority DESC",
            (project, domain, workflow, resource_type),
        )
        if row is None:
            name = matchable_resource_pb2.MatchableResource.Name(resource_type)
            raise not_found(
                f"Resource [{{Project:{project} Domain:{domain} Workflow:{workflow} LaunchPlan: ResourceType:{name}}}] "
                "not found"
            )
        return row

    def _require_attributes(self, request: Any) -> matchable_resource_pb2.MatchingAttributes:
        if not request.HasField("attributes"):
            raise missing_argument("attributes")
        if not request.attributes.HasField("matching_attributes"):
            raise missing_argument("matching_attributes")
        return request.attributes.matching_attributes  # type: ignore[no-any-return]

    def UpdateProjectDomainAttributes(
        self, request: project_domain_attributes_pb2.ProjectDomainAttributesUpdateRequest
    ) -> project_domain_attributes_pb2.ProjectDomainAttributesUpdateResponse:
        """Upsert project-domain level attributes (priority 10)."""
        matching = self._require_attributes(request)
        self.check_project_domain(request.attributes.project, request.attributes.domain)
        self._upsert_attributes(request.attributes.project, request.attributes.domain, "", matching, "project_domain")
        return project_domain_attributes_pb2.ProjectDomainAttributesUpdateResponse()

    def GetProjectDomainAttributes(
        self, request: project_domain_attributes_pb2.ProjectDomainAttributesGetRequest
    ) -> project_domain_attributes_pb2.ProjectDomainAttributesGetResponse:
        """The most specific attributes for a project-domain (possibly the project-level row)."""
        self.check_project_domain(request.project, request.domain)
        row = self._most_specific(request.project, request.domain, "", request.resource_type)
        return project_domain_attributes_pb2.ProjectDomainAttributesGetResponse(
            attributes=project_domain_attributes_pb2.ProjectDomainAttributes(
                project=request.project,
                domain=request.domain,
                matching_attributes=matchable_resource_pb2.MatchingAttributes.FromString(row["attributes"]),
            )
        )

    def DeleteProjectDomainAttributes(
        self, request: project_domain_attributes_pb2.ProjectDomainAttributesDeleteRequest
    ) -> project_domain_attributes_pb2.ProjectDomainAttributesDeleteResponse:
        """Delete the project-domain level row."""
        self.check_project_domain(request.project, request.domain)
        self._delete_attributes(request.project, request.domain, "", request.resource_type)
        return project_domain_attributes_pb2.ProjectDomainAttributesDeleteResponse()

    def _delete_attributes(self, project: str, domain: str, workflow: str, resource_type: int) -> None:
        self.store.execute(
            "DELETE FROM resources WHERE project = ? AND domain = ? AND workflow = ? AND launch_plan = '' "
            "AND resource_type = ?",
            (project, domain, workflow, resource_type),
        )

    def UpdateProjectAttributes(
        self, request: project_attributes_pb2.ProjectAttributesUpdateRequest
    ) -> project_attributes_pb2.ProjectAttributesUpdateResponse:
        """Upsert project level attributes (priority 5); the project must be active."""
        matching = self._require_attributes(request)
        self._check_project_for_update(request.attributes.project)
        self._upsert_attributes(request.attributes.project, "", "", matching, "project")
        return project_attributes_pb2.ProjectAttributesUpdateResponse()

    def GetProjectAttributes(
        self, request: project_attributes_pb2.ProjectAttributesGetRequest
    ) -> project_attributes_pb2.ProjectAttributesGetResponse:
        """The project level row (WORKFLOW_EXECUTION_CONFIG falls back to the defaults)."""
        if self.store.one("SELECT id FROM projects WHERE identifier = ?", (request.project,)) is None:
            raise not_found(f"project [{request.project}] not found")
        row = self.store.one(
            "SELECT * FROM resources WHERE project = ? AND domain = '' AND workflow = '' AND launch_plan = '' "
            "AND resource_type = ?",
            (request.project, request.resource_type),
        )
        if row is None:
            if request.resource_type != matchable_resource_pb2.WORKFLOW_EXECUTION_CONFIG:
                name = matchable_resource_pb2.MatchableResource.Name(request.resource_type)
                raise not_found(
                    f"Resource [{{Project:{request.project} Domain: Workflow: LaunchPlan: ResourceType:{name}}}] "
                    "not found"
                )
            matching = matchable_resource_pb2.MatchingAttributes(
                workflow_execution_config=matchable_resource_pb2.WorkflowExecutionConfig(max_parallelism=25)
            )
        else:
            matching = matchable_resource_pb2.MatchingAttributes.FromString(row["attributes"])
        return project_attributes_pb2.ProjectAttributesGetResponse(
            attributes=project_attributes_pb2.ProjectAttributes(project=request.project, matching_attributes=matching)
        )

    def DeleteProjectAttributes(
        self, request: project_attributes_pb2.ProjectAttributesDeleteRequest
    ) -> project_attributes_pb2.ProjectAttributesDeleteResponse:
        """Delete the project level row."""
        self._check_project_for_update(request.project)
        self._delete_attributes(request.project, "", "", request.resource_type)
        return project_attributes_pb2.ProjectAttributesDeleteResponse()

    def UpdateWorkflowAttributes(
        self, request: workflow_attributes_pb2.WorkflowAttributesUpdateRequest
    ) -> workflow_attributes_pb2.WorkflowAttributesUpdateResponse:
        """Upsert workflow level attributes (priority 100)."""
        matching = self._require_attributes(request)
        attributes = request.attributes
        self.check_project_domain(attributes.project, attributes.domain)
        require(attributes.workflow, "name")
        self._upsert_attributes(attributes.project, attributes.domain, attributes.workflow, matching, "workflow")
        return workflow_attributes_pb2.WorkflowAttributesUpdateResponse()

    def GetWorkflowAttributes(
        self, request: workflow_attributes_pb2.WorkflowAttributesGetRequest
    ) -> workflow_attributes_pb2.WorkflowAttributesGetResponse:
        """The most specific attributes for a workflow."""
        self.check_project_domain(request.project, request.domain)
        require(request.workflow, "name")
        row = self._most_specific(request.project, request.domain, request.workflow, request.resource_type)
        return workflow_attributes_pb2.WorkflowAttributesGetResponse(
            attributes=workflow_attributes_pb2.WorkflowAttributes(
                project=request.project,
                domain=request.domain,
                workflow=request.workflow,
                matching_attributes=matchable_resource_pb2.MatchingAttributes.FromString(row["attributes"]),
            )
        )

    def DeleteWorkflowAttributes(
        self, request: workflow_attributes_pb2.WorkflowAttributesDeleteRequest
    ) -> workflow_attributes_pb2.WorkflowAttributesDeleteResponse:
        """Delete the workflow level row."""
        self.check_project_domain(request.project, request.domain)
        require(request.workflow, "name")
        self._delete_attributes(request.project, request.domain, request.workflow, request.resource_type)
        return workflow_attributes_pb2.WorkflowAttributesDeleteResponse()

    def ListMatchableAttributes(
        self, request: matchable_resource_pb2.ListMatchableAttributesRequest
    ) -> matchable_resource_pb2.ListMatchableAttributesResponse:
        """Every attributes row of one resource type, most specific first."""
        rows = self.store.all(
            "SELECT * FROM resources WHERE resource_type = ? ORDER BY priority DESC, id ASC", (request.resource_type,)
        )
        return matchable_resource_pb2.ListMatchableAttributesResponse(
            configurations=[
                matchable_resource_pb2.MatchableAttributesConfiguration(
                    attributes=matchable_resource_pb2.MatchingAttributes.FromString(row["attributes"]),
                    project=row["project"],
                    domain=row["domain"],
                    workflow=row["workflow"],
                    launch_plan=row["launch_plan"],
                )
                for row in rows
            ]
        )

    def execution_config(
        self, project: str, domain: str, workflow: str
    ) -> matchable_resource_pb2.WorkflowExecutionConfig:
        """The most specific WORKFLOW_EXECUTION_CONFIG for a launch, or an empty config."""
        row = self.store.one(
            "SELECT attributes FROM resources WHERE project IN ('', ?) AND domain IN ('', ?) AND workflow IN ('', ?) "
            "AND launch_plan = '' AND resource_type = ? ORDER BY priority DESC",
            (project, domain, workflow, matchable_resource_pb2.WORKFLOW_EXECUTION_CONFIG),
        )
        if row is None:
            return matchable_resource_pb2.WorkflowExecutionConfig()
        return matchable_resource_pb2.MatchingAttributes.FromString(row["attributes"]).workflow_execution_config

    # Version -----------------------------------------------------------------------------------------------------

    def GetVersion(self, request: version_pb2.GetVersionRequest) -> version_pb2.GetVersionResponse:
        """The control plane version."""
        return version_pb2.GetVersionResponse(
            control_plane_version=version_pb2.Version(
                Build=f"airflow-provider-flyte-sandbox {__version__}", Version=self.version, BuildTime=""
            )
        )
