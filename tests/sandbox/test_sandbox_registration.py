from __future__ import annotations

import grpc
import pytest
from flyte_admin_sandbox import builders as b
from flyteidl.admin import common_pb2, launch_plan_pb2, project_pb2, task_pb2, workflow_pb2
from flyteidl.core import identifier_pb2
from sandbox_helpers import rpc_error

P, D = "flytesnacks", "development"


def register_task(admin, template):
    admin.CreateTask(task_pb2.TaskCreateRequest(id=template.id, spec=task_pb2.TaskSpec(template=template)))


def register_workflow(admin, template):
    admin.CreateWorkflow(
        workflow_pb2.WorkflowCreateRequest(id=template.id, spec=workflow_pb2.WorkflowSpec(template=template))
    )


def add_task(version="v1", name="t.add"):
    return b.python_task(
        name, "operator:add", inputs={"a": b.INTEGER, "b": b.INTEGER}, outputs={"o0": b.INTEGER}, version=version
    )


def add_workflow(version="v1", task_version="v1"):
    task_id = b.identifier(b.RT.TASK, "t.add", task_version)
    return b.workflow(
        "wf.add",
        version=version,
        inputs={"a": b.INTEGER},
        outputs={"o0": b.INTEGER},
        nodes=[b.task_node("n0", task_id, {"a": b.workflow_input("a"), "b": b.constant(1, b.INTEGER)})],
        output_bindings={"o0": b.promise("n0", "o0")},
    )


def test_projects_register_validate_list_and_archive(admin):
    admin.RegisterProject(project_pb2.ProjectRegisterRequest(project=project_pb2.Project(id="alpha", name="Alpha")))
    error = rpc_error(
        admin.RegisterProject, project_pb2.ProjectRegisterRequest(project=project_pb2.Project(id="alpha", name="A"))
    )
    assert error.code() == grpc.StatusCode.ALREADY_EXISTS
    assert 'unique constraint "projects_pkey"' in error.details()
    error = rpc_error(
        admin.RegisterProject, project_pb2.ProjectRegisterRequest(project=project_pb2.Project(id="Bad_Id", name="x"))
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith("invalid project id [Bad_Id]: ")
    error = rpc_error(admin.RegisterProject, project_pb2.ProjectRegisterRequest(project=project_pb2.Project(id="beta")))
    assert error.details() == "missing project_name"

    listed = admin.ListProjects(project_pb2.ProjectListRequest(limit=10))
    assert [p.id for p in listed.projects] == ["alpha", "flytesnacks"]
    assert [d.id for d in listed.projects[0].domains] == ["development", "staging", "production"]

    admin.UpdateProject(project_pb2.Project(id="alpha", state=project_pb2.Project.ARCHIVED))
    assert [p.id for p in admin.ListProjects(project_pb2.ProjectListRequest(limit=10)).projects] == ["flytesnacks"]
    assert admin.GetProject(project_pb2.ProjectGetRequest(id="alpha")).name == "Alpha"
    template = add_task()
    template.id.project = "alpha"
    error = rpc_error(
        admin.CreateTask, task_pb2.TaskCreateRequest(id=template.id, spec=task_pb2.TaskSpec(template=template))
    )
    assert error.details() == "project [alpha] is not active"
    domains = admin.GetDomains(project_pb2.GetDomainRequest())
    assert [d.name for d in domains.domains] == ["development", "staging", "production"]


def test_task_registration_rules(admin):
    template = add_task()
    register_task(admin, template)
    error = rpc_error(
        admin.CreateTask, task_pb2.TaskCreateRequest(id=template.id, spec=task_pb2.TaskSpec(template=template))
    )
    assert (error.code(), error.details()) == (
        grpc.StatusCode.ALREADY_EXISTS,
        "task with identical structure already exists",
    )
    changed = add_task()
    changed.interface.outputs.variables["o0"].type.CopyFrom(b.STRING)
    error = rpc_error(
        admin.CreateTask, task_pb2.TaskCreateRequest(id=changed.id, spec=task_pb2.TaskSpec(template=changed))
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith(
        "t.add task with different structure already exists. (Please register a new version"
    )
    assert "simple" in error.details()

    wrong_type = add_task(version="v2")
    wrong_type.id.resource_type = b.RT.WORKFLOW
    error = rpc_error(
        admin.CreateTask, task_pb2.TaskCreateRequest(id=wrong_type.id, spec=task_pb2.TaskSpec(template=wrong_type))
    )
    assert error.details().startswith("unexpected resource type workflow for identifier [")
    assert error.details().endswith("expected task instead")
    unknown_domain = add_task(version="v3")
    unknown_domain.id.domain = "qa"
    error = rpc_error(
        admin.CreateTask,
        task_pb2.TaskCreateRequest(id=unknown_domain.id, spec=task_pb2.TaskSpec(template=unknown_domain)),
    )
    assert error.details() == "domain [qa] is unrecognized by system"
    no_image = add_task(version="v4")
    no_image.container.image = ""
    error = rpc_error(
        admin.CreateTask, task_pb2.TaskCreateRequest(id=no_image.id, spec=task_pb2.TaskSpec(template=no_image))
    )
    assert error.details() == "missing image"

    fetched = admin.GetTask(common_pb2.ObjectGetRequest(id=template.id))
    assert fetched.closure.compiled_task.template.id == template.id
    missing = b.identifier(b.RT.TASK, "t.add", "nope")
    error = rpc_error(admin.GetTask, common_pb2.ObjectGetRequest(id=missing))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert error.details().startswith("missing entity of type TASK with identifier project:")


def test_workflow_compilation(admin):
    error = rpc_error(
        admin.CreateWorkflow,
        workflow_pb2.WorkflowCreateRequest(
            id=add_workflow().id, spec=workflow_pb2.WorkflowSpec(template=add_workflow())
        ),
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith("failed to compile workflow for [")
    assert "missing entity of type TASK" in error.details()

    register_task(admin, add_task())
    register_workflow(admin, add_workflow())
    workflow = admin.GetWorkflow(common_pb2.ObjectGetRequest(id=add_workflow().id))
    primary = workflow.closure.compiled_workflow.primary
    assert [n.id for n in primary.template.nodes] == ["start-node", "n0", "end-node"]
    assert list(primary.connections.upstream["n0"].ids) == ["start-node"]
    assert list(primary.connections.downstream["n0"].ids) == ["end-node"]
    assert [t.template.id.name for t in workflow.closure.compiled_workflow.tasks] == ["t.add"]

    bad = add_workflow(version="v2")
    bad.outputs[0].binding.promise.var = "nope"
    error = rpc_error(
        admin.CreateWorkflow,
        workflow_pb2.WorkflowCreateRequest(id=bad.id, spec=workflow_pb2.WorkflowSpec(template=bad)),
    )
    assert "Collected Errors: 1" in error.details()
    assert "Variable [nope] not found on node [n0]." in error.details()

    identical = rpc_error(
        admin.CreateWorkflow,
        workflow_pb2.WorkflowCreateRequest(
            id=add_workflow().id, spec=workflow_pb2.WorkflowSpec(template=add_workflow())
        ),
    )
    assert identical.code() == grpc.StatusCode.ALREADY_EXISTS
    assert identical.details() == "workflow with identical structure already exists"
    listed = admin.ListWorkflows(
        common_pb2.ResourceListRequest(id=common_pb2.NamedEntityIdentifier(project=P, domain=D, name="wf.add"), limit=5)
    )
    assert len(listed.workflows) == 1
    skeleton = listed.workflows[0].closure.compiled_workflow.primary.template
    assert not skeleton.nodes
    assert "a" in skeleton.interface.inputs.variables


def test_launch_plans_validation_expansion_and_activation(admin):
    register_task(admin, add_task())
    register_workflow(admin, add_workflow())
    wf_id = add_workflow().id
    lp_v1 = b.identifier(b.RT.LAUNCH_PLAN, "lp.add", "v1")
    admin.CreateLaunchPlan(launch_plan_pb2.LaunchPlanCreateRequest(id=lp_v1, spec=b.launch_plan_spec(wf_id)))
    plan = admin.GetLaunchPlan(common_pb2.ObjectGetRequest(id=lp_v1))
    assert plan.closure.state == launch_plan_pb2.INACTIVE
    assert plan.closure.expected_inputs.parameters["a"].required
    assert "o0" in plan.closure.expected_outputs.variables

    wrong = b.launch_plan_spec(wf_id, defaults={"a": (b.STRING, "x")})
    error = rpc_error(
        admin.CreateLaunchPlan,
        launch_plan_pb2.LaunchPlanCreateRequest(id=b.identifier(b.RT.LAUNCH_PLAN, "lp.add", "v9"), spec=wrong),
    )
    assert error.details().startswith("invalid default_input wrong type a, expected")
    unexpected = b.launch_plan_spec(wf_id, defaults={"zzz": (b.INTEGER, 1)})
    error = rpc_error(
        admin.CreateLaunchPlan,
        launch_plan_pb2.LaunchPlanCreateRequest(id=b.identifier(b.RT.LAUNCH_PLAN, "lp.add", "v9"), spec=unexpected),
    )
    assert error.details() == "unexpected default_input zzz"
    scheduled = b.launch_plan_spec(wf_id, cron="0 * * * *")
    error = rpc_error(
        admin.CreateLaunchPlan,
        launch_plan_pb2.LaunchPlanCreateRequest(id=b.identifier(b.RT.LAUNCH_PLAN, "lp.add", "v9"), spec=scheduled),
    )
    assert (
        error.details()
        == "Cannot create a launch plan with a schedule if there is an unbound required input. [a] is required"
    )
    bad_cron = b.launch_plan_spec(wf_id, defaults={"a": (b.INTEGER, 1)}, cron="61 * * * *")
    error = rpc_error(
        admin.CreateLaunchPlan,
        launch_plan_pb2.LaunchPlanCreateRequest(id=b.identifier(b.RT.LAUNCH_PLAN, "lp.add", "v9"), spec=bad_cron),
    )
    assert error.details().startswith("Invalid cron expression: ")
    missing_wf = b.launch_plan_spec(b.identifier(b.RT.WORKFLOW, "nope"))
    error = rpc_error(
        admin.CreateLaunchPlan,
        launch_plan_pb2.LaunchPlanCreateRequest(id=b.identifier(b.RT.LAUNCH_PLAN, "lp.add", "v9"), spec=missing_wf),
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND

    lp_v2 = b.identifier(b.RT.LAUNCH_PLAN, "lp.add", "v2")
    admin.CreateLaunchPlan(
        launch_plan_pb2.LaunchPlanCreateRequest(
            id=lp_v2, spec=b.launch_plan_spec(wf_id, defaults={"a": (b.INTEGER, 3)})
        )
    )
    admin.UpdateLaunchPlan(launch_plan_pb2.LaunchPlanUpdateRequest(id=lp_v1, state=launch_plan_pb2.ACTIVE))
    admin.UpdateLaunchPlan(launch_plan_pb2.LaunchPlanUpdateRequest(id=lp_v2, state=launch_plan_pb2.ACTIVE))
    active = admin.GetActiveLaunchPlan(
        launch_plan_pb2.ActiveLaunchPlanRequest(id=common_pb2.NamedEntityIdentifier(project=P, domain=D, name="lp.add"))
    )
    assert active.id.version == "v2"
    assert admin.GetLaunchPlan(common_pb2.ObjectGetRequest(id=lp_v1)).closure.state == launch_plan_pb2.INACTIVE
    admin.UpdateLaunchPlan(launch_plan_pb2.LaunchPlanUpdateRequest(id=lp_v2, state=launch_plan_pb2.INACTIVE))
    error = rpc_error(
        admin.GetActiveLaunchPlan,
        launch_plan_pb2.ActiveLaunchPlanRequest(
            id=common_pb2.NamedEntityIdentifier(project=P, domain=D, name="lp.add")
        ),
    )
    assert (error.code(), error.details()) == (
        grpc.StatusCode.NOT_FOUND,
        "No active launch plan could be found: flytesnacks:development:lp.add",
    )

    listed = admin.ListLaunchPlans(
        common_pb2.ResourceListRequest(
            id=common_pb2.NamedEntityIdentifier(project=P, domain=D), limit=10, filters="eq(workflow.name,wf.add)"
        )
    )
    assert sorted(p.id.version for p in listed.launch_plans) == ["v1", "v2"]


def test_lists_pagination_sorting_and_filter_errors(admin):
    for version in ("v1", "v2", "v3"):
        register_task(admin, add_task(version))
    request = common_pb2.ResourceListRequest(
        id=common_pb2.NamedEntityIdentifier(project=P, domain=D, name="t.add"),
        limit=2,
        sort_by=common_pb2.Sort(key="version", direction=common_pb2.Sort.ASCENDING),
    )
    first = admin.ListTasks(request)
    assert [t.id.version for t in first.tasks] == ["v1", "v2"]
    assert first.token == "2"
    request.token = first.token
    second = admin.ListTasks(request)
    assert [t.id.version for t in second.tasks] == ["v3"]
    assert second.token == ""
    request.token, request.limit = "", 3
    full = admin.ListTasks(request)
    assert full.token == "3"
    request.token = full.token
    assert admin.ListTasks(request).tasks == []

    def error_for(**changes):
        bad = common_pb2.ResourceListRequest()
        bad.CopyFrom(request)
        bad.token = ""
        for key, value in changes.items():
            setattr(bad, key, value) if key != "sort_by" else bad.sort_by.CopyFrom(value)
        return rpc_error(admin.ListTasks, bad).details()

    assert error_for(limit=0) == "invalid value for limit"
    assert error_for(token="abc") == "invalid pagination token abc for ListTasks"
    assert error_for(filters="eq(nosuch,1)") == "'t.nosuch' is invalid filter"
    assert error_for(filters="bogus(name,1)") == "unrecognized filter function: bogus"
    assert error_for(filters="name=1") == "invalid value for filters"
    assert error_for(filters="eq(workflow.name,x)") == "'w' entity is not allowed in filters"
    assert error_for(sort_by=common_pb2.Sort(key="nope")) == "invalid sort key 'nope'"
    filtered = admin.ListTasks(
        common_pb2.ResourceListRequest(
            id=common_pb2.NamedEntityIdentifier(project=P, domain=D),
            limit=10,
            filters="value_in(version,v1;v3)+contains(name,add)",
        )
    )
    assert sorted(t.id.version for t in filtered.tasks) == ["v1", "v3"]
    ids = admin.ListTaskIds(common_pb2.NamedEntityIdentifierListRequest(project=P, domain=D, limit=100))
    assert "t.add" in [e.name for e in ids.entities]


def test_named_entities(admin):
    named = admin.ListNamedEntities(
        common_pb2.NamedEntityListRequest(resource_type=b.RT.LAUNCH_PLAN, project=P, domain=D, limit=50)
    )
    names = [e.id.name for e in named.entities]
    assert "demo.pipeline" in names
    ident = common_pb2.NamedEntityIdentifier(project=P, domain=D, name="demo.pipeline")
    admin.UpdateNamedEntity(
        common_pb2.NamedEntityUpdateRequest(
            resource_type=b.RT.LAUNCH_PLAN,
            id=ident,
            metadata=common_pb2.NamedEntityMetadata(description="hello", state=common_pb2.NAMED_ENTITY_ARCHIVED),
        )
    )
    entity = admin.GetNamedEntity(common_pb2.NamedEntityGetRequest(resource_type=b.RT.LAUNCH_PLAN, id=ident))
    assert (entity.metadata.description, entity.metadata.state) == ("hello", common_pb2.NAMED_ENTITY_ARCHIVED)
    active_only = admin.ListNamedEntities(
        common_pb2.NamedEntityListRequest(
            resource_type=b.RT.LAUNCH_PLAN, project=P, domain=D, limit=50, filters="eq(state,0)"
        )
    )
    assert "demo.pipeline" not in [e.id.name for e in active_only.entities]
    error = rpc_error(
        admin.GetNamedEntity,
        common_pb2.NamedEntityGetRequest(
            resource_type=b.RT.TASK, id=common_pb2.NamedEntityIdentifier(project=P, domain=D, name="nope")
        ),
    )
    assert (error.code(), error.details()) == (grpc.StatusCode.NOT_FOUND, "entry not found")
    error = rpc_error(admin.ListNamedEntities, common_pb2.NamedEntityListRequest(project=P, domain=D, limit=5))
    assert error.details() == "invalid value for resource_type"


@pytest.mark.parametrize("resource_type", [identifier_pb2.ResourceType.TASK, identifier_pb2.ResourceType.WORKFLOW])
def test_seeded_entities_exist_in_every_domain(admin, resource_type):
    for domain in ("development", "staging", "production"):
        listed = admin.ListNamedEntities(
            common_pb2.NamedEntityListRequest(resource_type=resource_type, project=P, domain=domain, limit=50)
        )
        assert any(e.id.name.startswith("demo.") for e in listed.entities)
