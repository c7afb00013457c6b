"""``CreateRun``: resolve the run's name, task and inputs, store it and hand it to the engine."""

from __future__ import annotations

import re
import secrets
import string

from flyteidl2.common import identifier_pb2
from flyteidl2.task import common_pb2, task_definition_pb2
from flyteidl2.workflow import run_definition_pb2, run_service_pb2

from flyte_admin_sandbox.v2 import literals, relations, views
from flyte_admin_sandbox.v2.backend import Backend
from flyte_admin_sandbox.v2.errors import invalid, missing, not_found
from flyte_admin_sandbox.v2.store import RunRecord

MAX_RUN_NAME = 30
RUN_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]*$")
_ALPHABET = string.ascii_lowercase + string.digits


def generated_name() -> str:
    """A fresh run name: ``r`` and 19 lowercase letters or digits (20 characters)."""
    return "r" + "".join(secrets.choice(_ALPHABET) for _ in range(19))


def validate_run_name(name: str, field: str = "run_id.name") -> None:
    """Check a client-chosen run name: 1 to 30 characters, lowercase letters, digits and ``-``, a letter first.

    Raises:
        ServiceError: ``INVALID_ARGUMENT`` naming the field and the value.
    """
    if len(name) > MAX_RUN_NAME:
        raise invalid(field, name, f"at most {MAX_RUN_NAME} characters, got {len(name)}")
    if not RUN_NAME_PATTERN.match(name):
        raise invalid(field, name, "lowercase letters, digits and '-' only, starting with a letter")


def _run_id(backend: Backend, request: run_service_pb2.CreateRunRequest) -> identifier_pb2.RunIdentifier:
    which = request.WhichOneof("id")
    if which == "run_id":
        run_id = identifier_pb2.RunIdentifier()
        run_id.CopyFrom(request.run_id)
        if not run_id.name:
            raise missing("run_id.name")
        validate_run_name(run_id.name)
        backend.require_project(run_id.project, run_id.domain, "run_id.project")
        return run_id
    if which == "project_id":
        project = request.project_id
        backend.require_project(project.name, project.domain, "project_id.name")
        return identifier_pb2.RunIdentifier(
            org=project.organization, project=project.name, domain=project.domain, name=generated_name()
        )
    raise missing("run_id or project_id")


def _task(
    backend: Backend, request: run_service_pb2.CreateRunRequest, run_id: identifier_pb2.RunIdentifier
) -> tuple[task_definition_pb2.TaskIdentifier, task_definition_pb2.TaskSpec, common_pb2.Inputs, str]:
    """The task to run, its spec, the trigger's default inputs and the trigger's name."""
    which = request.WhichOneof("task")
    if which == "task_id":
        record = backend.store.get_task(
            request.task_id.project, request.task_id.domain, request.task_id.name, request.task_id.version
        )
        spec = backend.task(request.task_id)
        assert record is not None  # backend.task raised otherwise
        return record.task_id, spec, common_pb2.Inputs(), ""
    if which == "task_spec":
        template_id = request.task_spec.task_template.id
        if not template_id.name:
            raise missing("task_spec.task_template.id.name")
        task_id = task_definition_pb2.TaskIdentifier(
            org=run_id.org,
            project=run_id.project,
            domain=run_id.domain,
            name=template_id.name,
            version=template_id.version,
        )
        return task_id, request.task_spec, common_pb2.Inputs(), ""
    if which == "trigger_name":
        name = request.trigger_name
        trigger = backend.store.get_trigger(
            name.project or run_id.project, name.domain or run_id.domain, name.task_name, name.name
        )
        if trigger is None:
            raise not_found("trigger", f"{name.project}/{name.domain}/{name.task_name}/{name.name}")
        tname = trigger.id.name
        task_id = task_definition_pb2.TaskIdentifier(
            org=tname.org,
            project=tname.project,
            domain=tname.domain,
            name=tname.task_name,
            version=trigger.spec.task_version,
        )
        spec = backend.task(task_id, "trigger_name")
        record = backend.store.get_task(task_id.project, task_id.domain, task_id.name, task_id.version)
        assert record is not None
        return record.task_id, spec, trigger.spec.inputs, tname.name
    raise missing("task_id, task_spec or trigger_name")


def _inputs(
    backend: Backend,
    request: run_service_pb2.CreateRunRequest,
    spec: task_definition_pb2.TaskSpec,
    base: common_pb2.Inputs,
) -> common_pb2.Inputs:
    """The run's inputs: the spec's defaults, then a trigger's inputs, then the request's, checked by name."""
    given = request.inputs
    if request.HasField("offloaded_input_data"):
        given = backend.read_inputs(request.offloaded_input_data.uri, "offloaded_input_data.uri")
    declared = literals.variables(spec.task_template.interface.inputs)
    values = {item.name: item.parameter.default for item in spec.default_inputs if item.parameter.HasField("default")}
    for source in (base, given):
        for named in source.literals:
            if named.name not in declared:
                raise invalid("inputs", named.name, f"the task declares inputs {sorted(declared)}")
            values[named.name] = named.value
    absent = [name for name in declared if name not in values]
    if absent:
        raise invalid("inputs", ", ".join(absent), "required inputs are missing")
    inputs = common_pb2.Inputs(context=given.context)
    for name in declared:
        inputs.literals.add(name=name).value.CopyFrom(values[name])
    return inputs


def create_run(backend: Backend, request: run_service_pb2.CreateRunRequest) -> run_definition_pb2.Run:
    """Validate, store and start a run; its ``Run`` as created (QUEUED, or RECOVERED for a recovered root action).

    A run related to an earlier one (``RunSpec.relation`` or ``related_to``; see :mod:`.relations`) takes the
    inputs the request leaves out from that run, and a recovery reuses its root action when it succeeded.

    Raises:
        ServiceError: ``INVALID_ARGUMENT`` for a bad name, target, inputs or related run; ``NOT_FOUND`` for an
            unknown project, task, trigger or related run; ``ALREADY_EXISTS`` for a run name the project and domain
            already have.
    """
    run_id = _run_id(backend, request)
    task_id, spec, base_inputs, trigger_name = _task(backend, request, run_id)
    relation = relations.relation_of(request.run_spec)
    source = relations.source_run(backend.store, run_id, relation) if relation is not None else None
    record = RunRecord(
        run_id=run_id,
        task_id=task_id,
        task_spec=spec,
        run_spec=request.run_spec,
        inputs=_inputs(backend, request, spec, source.inputs if source is not None else base_inputs),
        trigger_name=trigger_name,
        source=request.source,
    )
    recovered = False
    if relation is not None and source is not None:
        relations.record_relation(record, relation)
        recovered = relations.recovers_root(request.run_spec, relation, source)
        if recovered:
            relations.recover_root(record, source)
    backend.store.insert_run(record)
    created = views.run(record)
    if not recovered:
        backend.engine.start(record)
    return created
