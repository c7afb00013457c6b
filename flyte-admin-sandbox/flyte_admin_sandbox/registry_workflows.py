"""Workflows: CreateWorkflow (compiled against the registered tasks and launch plans), GetWorkflow, lists."""

from __future__ import annotations

from flyteidl.admin import common_pb2, description_entity_pb2, task_pb2, workflow_pb2
from flyteidl.core import compiler_pb2, identifier_pb2

from flyte_admin_sandbox import compiler
from flyte_admin_sandbox.common import diff, digest, require, validate_identifier
from flyte_admin_sandbox.errors import AdminError, already_exists, invalid, missing_argument, prototext
from flyte_admin_sandbox.filters import WORKFLOW, format_timestamp
from flyte_admin_sandbox.records import timestamp
from flyte_admin_sandbox.registry_base import RT
from flyte_admin_sandbox.registry_entities import NamedEntities
from flyte_admin_sandbox.store import now


class Workflows(NamedEntities):
    """Flyte Admin's workflow manager."""

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
