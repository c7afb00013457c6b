"""Entity pages: projects, a project/domain, lists of launch plans, tasks and workflows, and one of each."""

from __future__ import annotations

import logging
from typing import Any

from flyteidl.admin import launch_plan_pb2, schedule_pb2, task_pb2, workflow_pb2
from flyteidl.core import identifier_pb2, interface_pb2
from flyteidl.core import workflow_pb2 as core_workflow_pb2

from flyte_admin_sandbox.console.data import ConsoleData, NotFound, type_text
from flyte_admin_sandbox.console.html import (
    Html,
    crumbs,
    facts,
    join,
    link,
    page,
    path,
    phase_badge,
    section,
    table,
    tag,
    when,
)
from flyte_admin_sandbox.console.pages_executions import HIDDEN_NODES
from flyte_admin_sandbox.console.widgets import (
    ENTITY_ROUTES,
    KIND_TEXT,
    entity_link,
    entity_path,
    execution_link,
    literal_html,
    values_table,
    variables_table,
    workflow_phase,
)
from flyte_admin_sandbox.errors import AdminError
from flyte_admin_sandbox.registry_entities import FLYTEGEN_PREFIX

log = logging.getLogger(__name__)

RT = identifier_pb2.ResourceType
LaunchPlanState = launch_plan_pb2.LaunchPlanState

RECENT_EXECUTIONS = 20
"""How many executions an entity page lists."""

_FILTER_PREFIX: dict[int, str] = {RT.LAUNCH_PLAN: "launch_plan", RT.TASK: "task", RT.WORKFLOW: "workflow"}


# Projects and domains --------------------------------------------------------------------------------------------


def projects_page(data: ConsoleData) -> Html:
    """Every project, with links to its domains."""
    domains = data.domains()
    rows = [
        (
            link(path("projects", project.id), project.id),
            project.name,
            project.description,
            join([link(path("projects", project.id, "domains", domain), domain) for domain in domains], " "),
        )
        for project in data.projects()
    ]
    body = table(("Project", "Name", "Description", "Domains"), rows, empty="No projects yet.")
    return page("Projects", tag("section", body), nav=crumbs())


def project_page(data: ConsoleData, project: str) -> Html:
    """One project: its domains.

    Raises:
        NotFound: for an unknown project.
    """
    found = data.project(project)
    rows = [(link(path("projects", project, "domains", domain), domain),) for domain in data.domains()]
    body = join([tag("section", facts([("Name", found.name), ("Description", found.description)]))])
    body = join([body, section("Domains", table(("Domain",), rows))])
    return page(f"Project {project}", body, nav=crumbs())


def _check_domain(data: ConsoleData, project: str, domain: str) -> None:
    data.project(project)
    if domain not in data.domains():
        raise NotFound(f"domain {domain} of project {project}")


def domain_page(data: ConsoleData, project: str, domain: str) -> Html:
    """A project/domain: links to its executions, launch plans, tasks and workflows, and the newest executions.

    Raises:
        NotFound: for an unknown project or domain.
    """
    _check_domain(data, project, domain)
    here = ("projects", project, "domains", domain)
    links = [
        link(path(*here, "executions"), "Executions"),
        link(path(*here, "launch_plans"), "Launch plans"),
        link(path(*here, "tasks"), "Tasks"),
        link(path(*here, "workflows"), "Workflows"),
    ]
    recent = _executions_table(data.executions_of(project, domain, limit=10))
    body = join([tag("section", tag("p", join(links, " &middot; "))), section("Newest executions", recent)])
    return page(f"{project} / {domain}", body, nav=crumbs(project, domain))


def _executions_table(executions: list[Any]) -> Html:
    rows = [
        (
            execution_link(execution.id),
            phase_badge(workflow_phase(execution.closure.phase)),
            entity_link(execution.spec.launch_plan),
            when(execution.closure.created_at),
        )
        for execution in executions
    ]
    return table(("Execution", "Phase", "Launched", "Created at"), rows, empty="No executions yet.")


# Lists -----------------------------------------------------------------------------------------------------------


def _kind_of(route: str) -> int:
    kind = ENTITY_ROUTES.get(route)
    if kind is None:
        raise NotFound(f"console page for {route!r}")
    return kind


def _by_name(entities: list[Any]) -> dict[str, list[Any]]:
    """Versions grouped by name (newest first within a name), hidden ``.flytegen`` names left out."""
    grouped: dict[str, list[Any]] = {}
    for entity in entities:
        if not entity.id.name.startswith(FLYTEGEN_PREFIX):
            grouped.setdefault(entity.id.name, []).append(entity)
    return dict(sorted(grouped.items()))


def entity_list_page(data: ConsoleData, route: str, project: str, domain: str) -> Html:
    """The launch plans, tasks or workflows of a project/domain, one row per name.

    Raises:
        NotFound: for an unknown kind, project or domain.
    """
    kind = _kind_of(route)
    _check_domain(data, project, domain)
    if kind == RT.LAUNCH_PLAN:
        body = _launch_plan_list(data, project, domain)
    elif kind == RT.TASK:
        body = _task_list(data, project, domain)
    else:
        body = _workflow_list(data, project, domain)
    title = f"{KIND_TEXT[kind].capitalize()}s in {project} / {domain}"
    return page(title, tag("section", body), nav=crumbs(project, domain))


def _launch_plan_list(data: ConsoleData, project: str, domain: str) -> Html:
    rows = []
    for name, versions in _by_name(data.launch_plans(project, domain)).items():
        active = next((plan for plan in versions if plan.closure.state == LaunchPlanState.ACTIVE), None)
        shown = active or versions[0]
        rows.append(
            (
                link(entity_path(RT.LAUNCH_PLAN, project, domain, name), name),
                entity_link(active.id, active.id.version)
                if active is not None
                else tag("span", "none", class_="muted"),
                schedule_text(shown.spec.entity_metadata.schedule),
                _state_text(shown.closure.state if active is not None else LaunchPlanState.INACTIVE),
                entity_link(shown.spec.workflow_id),
                str(len(versions)),
            )
        )
    headers = ("Launch plan", "Active version", "Schedule", "State", "Workflow", "Versions")
    return table(headers, rows, empty="No launch plans registered.")


def _task_list(data: ConsoleData, project: str, domain: str) -> Html:
    rows = [
        (
            link(entity_path(RT.TASK, project, domain, name), name),
            entity_link(versions[0].id, versions[0].id.version),
            versions[0].closure.compiled_task.template.type,
            _interface_text(versions[0].closure.compiled_task.template.interface),
            str(len(versions)),
        )
        for name, versions in _by_name(data.tasks(project, domain)).items()
    ]
    return table(("Task", "Newest version", "Type", "Interface", "Versions"), rows, empty="No tasks registered.")


def _workflow_list(data: ConsoleData, project: str, domain: str) -> Html:
    rows = [
        (
            link(entity_path(RT.WORKFLOW, project, domain, name), name),
            entity_link(versions[0].id, versions[0].id.version),
            _interface_text(versions[0].closure.compiled_workflow.primary.template.interface),
            str(len(versions)),
        )
        for name, versions in _by_name(data.workflows(project, domain)).items()
    ]
    return table(("Workflow", "Newest version", "Interface", "Versions"), rows, empty="No workflows registered.")


def _interface_text(interface: interface_pb2.TypedInterface) -> str:
    def listed(variables: interface_pb2.VariableMap) -> str:
        return ", ".join(f"{name}: {type_text(v.type)}" for name, v in sorted(variables.variables.items()))

    return f"({listed(interface.inputs)}) -> ({listed(interface.outputs)})"


def _state_text(state: int) -> Html:
    name = LaunchPlanState.Name(state)
    return tag("span", name, class_="phase phase-SUCCEEDED" if state == LaunchPlanState.ACTIVE else "phase")


def schedule_text(schedule: schedule_pb2.Schedule) -> str:
    """A launch plan schedule for people: ``cron 0 2 * * *``, ``every 5 minute(s)``; empty when unscheduled."""
    if schedule.cron_expression:
        text = f"cron {schedule.cron_expression}"
    elif schedule.HasField("cron_schedule") and schedule.cron_schedule.schedule:
        offset = f" (offset {schedule.cron_schedule.offset})" if schedule.cron_schedule.offset else ""
        text = f"cron {schedule.cron_schedule.schedule}{offset}"
    elif schedule.HasField("rate") and schedule.rate.value:
        text = f"every {schedule.rate.value} {schedule_pb2.FixedRateUnit.Name(schedule.rate.unit).lower()}(s)"
    else:
        return ""
    if schedule.kickoff_time_input_arg:
        text += f", kickoff time in input {schedule.kickoff_time_input_arg!r}"
    return text


# One entity ------------------------------------------------------------------------------------------------------


def entity_page(data: ConsoleData, route: str, project: str, domain: str, name: str, version: str = "") -> Html:
    """One launch plan, task or workflow: a version (the active or newest one without ``version``) and its versions.

    Raises:
        NotFound: for an unknown kind, name or version.
    """
    kind = _kind_of(route)
    versions = _versions_of(data, kind, project, domain, name)
    if not versions:
        raise NotFound(f"{KIND_TEXT[kind]} {project}/{domain}/{name}")
    entity = _chosen(data, kind, versions, project, domain, name, version)
    if kind == RT.LAUNCH_PLAN:
        details = _launch_plan_details(entity)
    elif kind == RT.TASK:
        details = _task_details(entity)
    else:
        details = _workflow_details(entity)
    body = join(
        [
            details,
            section("Versions", _versions_table(kind, versions, entity.id.version)),
            section("Recent executions", _recent_executions(data, kind, entity.id)),
        ]
    )
    heading = join([name, tag("span", f" @ {entity.id.version}", class_="muted")])
    lists = (entity_path(kind, project, domain), f"{KIND_TEXT[kind].capitalize()}s")
    return page(f"{KIND_TEXT[kind].capitalize()} {name}", body, heading=heading, nav=crumbs(project, domain, lists))


def _versions_of(data: ConsoleData, kind: int, project: str, domain: str, name: str) -> list[Any]:
    if kind == RT.LAUNCH_PLAN:
        return data.launch_plans(project, domain, name)
    if kind == RT.TASK:
        return data.tasks(project, domain, name)
    return data.workflows(project, domain, name)


def _chosen(
    data: ConsoleData, kind: int, versions: list[Any], project: str, domain: str, name: str, version: str
) -> Any:
    """The version asked for, else the active launch plan version, else the newest version, in full (Get*).

    Lists answer skeletons (a workflow's nodes are left out), so the version shown is always fetched.
    """
    if not version:
        active = None
        if kind == RT.LAUNCH_PLAN:
            active = next((plan for plan in versions if plan.closure.state == LaunchPlanState.ACTIVE), None)
        version = (active or versions[0]).id.version
    identifier = identifier_pb2.Identifier(project=project, domain=domain, name=name, version=version)
    identifier.resource_type = kind  # type: ignore[assignment]
    if kind == RT.LAUNCH_PLAN:
        return data.launch_plan(identifier)
    if kind == RT.TASK:
        return data.task(identifier)
    return data.workflow(identifier)


def _launch_plan_details(plan: launch_plan_pb2.LaunchPlan) -> Html:
    items: list[tuple[str, object]] = [
        ("Launch plan", _id_text(plan.id)),
        ("State", _state_text(plan.closure.state)),
        ("Workflow", entity_link(plan.spec.workflow_id)),
        ("Schedule", schedule_text(plan.spec.entity_metadata.schedule) or tag("span", "none", class_="muted")),
        ("Created at", when(plan.closure.created_at)),
    ]
    parameters = plan.closure.expected_inputs.parameters
    rows = [
        (
            tag("code", name),
            tag("code", type_text(parameter.var.type)),
            "required" if parameter.required else "optional",
            literal_html(parameter.default, parameter.var.type) if parameter.HasField("default") else "",
        )
        for name, parameter in sorted(parameters.items())
    ]
    return join(
        [
            tag("section", facts(items)),
            section("Inputs", table(("Name", "Type", "Required", "Default"), rows, empty="None.")),
            section("Fixed inputs", values_table(plan.spec.fixed_inputs)),
            section("Outputs", variables_table(plan.closure.expected_outputs)),
        ]
    )


def _task_details(task: task_pb2.Task) -> Html:
    template = task.closure.compiled_task.template
    items: list[tuple[str, object]] = [
        ("Task", _id_text(task.id)),
        ("Type", template.type),
        ("Image", template.container.image if template.HasField("container") else ""),
        ("Command", " ".join(template.container.args) if template.HasField("container") else ""),
        ("Retries", str(template.metadata.retries.retries) if template.metadata.HasField("retries") else ""),
        ("Created at", when(task.closure.created_at)),
    ]
    return join([tag("section", facts(items)), _interface_sections(template.interface)])


def _workflow_details(workflow: workflow_pb2.Workflow) -> Html:
    template = workflow.closure.compiled_workflow.primary.template
    items: list[tuple[str, object]] = [
        ("Workflow", _id_text(workflow.id)),
        ("Created at", when(workflow.closure.created_at)),
    ]
    nodes = [(tag("code", node.id), _node_target(node)) for node in template.nodes if node.id not in HIDDEN_NODES]
    return join(
        [
            tag("section", facts(items)),
            _interface_sections(template.interface),
            section("Nodes", table(("Node", "Runs"), nodes, empty="No nodes.")),
        ]
    )


def _node_target(node: core_workflow_pb2.Node) -> Html:
    """What a workflow node runs, linked when it is a registered entity."""
    target = node.WhichOneof("target")
    if target == "task_node":
        return join(["task ", entity_link(node.task_node.reference_id)])
    if target == "workflow_node":
        reference = node.workflow_node.WhichOneof("reference")
        if reference == "launchplan_ref":
            return join(["launch plan ", entity_link(node.workflow_node.launchplan_ref)])
        return join(["sub-workflow ", tag("code", node.workflow_node.sub_workflow_ref.name)])
    if target == "gate_node":
        gate = node.gate_node
        kind = gate.WhichOneof("condition") or "gate"
        if kind == "signal":
            signal = gate.signal
            return join(
                ["gate: signal ", tag("code", signal.signal_id), " of type ", tag("code", type_text(signal.type))]
            )
        if kind == "approve":
            return join(["gate: approval ", tag("code", gate.approve.signal_id)])
        return join(["gate: ", kind])
    return tag("span", (target or "nothing").replace("_", " "))


def _interface_sections(interface: interface_pb2.TypedInterface) -> Html:
    return join(
        [section("Inputs", variables_table(interface.inputs)), section("Outputs", variables_table(interface.outputs))]
    )


def _id_text(identifier: identifier_pb2.Identifier) -> str:
    return f"{identifier.project} / {identifier.domain} / {identifier.name} @ {identifier.version}"


def _versions_table(kind: int, versions: list[Any], current: str) -> Html:
    rows = []
    for entity in versions:
        shown = entity_link(entity.id, entity.id.version)
        marker = tag("span", " (shown)", class_="muted") if entity.id.version == current else ""
        state = _state_text(entity.closure.state) if kind == RT.LAUNCH_PLAN else ""
        rows.append((join([shown, marker]), state, when(entity.closure.created_at)))
    return table(("Version", "State" if kind == RT.LAUNCH_PLAN else "", "Created at"), rows)


def _recent_executions(data: ConsoleData, kind: int, identifier: identifier_pb2.Identifier) -> Html:
    prefix = _FILTER_PREFIX[kind]
    filters = f"eq({prefix}.name,{identifier.name})+eq({prefix}.version,{identifier.version})"
    try:
        executions = data.executions_of(identifier.project, identifier.domain, filters, limit=RECENT_EXECUTIONS)
    except AdminError as error:
        log.debug("console: cannot list executions of %s: %s", identifier.name, error.message)
        return tag("p", "Executions of this entity cannot be listed.", class_="empty")
    return _executions_table(executions)
