"""Launch plans: CreateLaunchPlan (checked against the workflow's interface), reads, lists and activation.

A launch plan is stored INACTIVE; UpdateLaunchPlan activates one version of a name (deactivating the active one)
or deactivates it.
"""

from __future__ import annotations

from flyteidl.admin import common_pb2, launch_plan_pb2
from flyteidl.core import identifier_pb2, interface_pb2, types_pb2

from flyte_admin_sandbox.common import diff, digest, list_page, require, sort_of, validate_identifier, where_query
from flyte_admin_sandbox.cron import CronError, validate_cron
from flyte_admin_sandbox.errors import AdminError, already_exists, invalid, not_found, prototext
from flyte_admin_sandbox.filters import LAUNCH_PLAN, check_limit, format_timestamp, offset_from_token
from flyte_admin_sandbox.registry_base import RT, RegistryBase, validate_labels
from flyte_admin_sandbox.store import now
from flyte_admin_sandbox.typing_rules import is_castable, literal_fits, literal_type_of

LaunchPlanState = launch_plan_pb2.LaunchPlanState
KICKOFF_TIME_ARG = "kickoff_time_input_arg"


def _check_spec_inputs(spec: launch_plan_pb2.LaunchPlanSpec) -> None:
    """The fixed and default inputs of a spec, on their own: keys, values, parameter types and behaviours."""
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


def _check_inputs_against(
    spec: launch_plan_pb2.LaunchPlanSpec, workflow_inputs: dict[str, interface_pb2.Variable]
) -> None:
    """The spec's fixed and default inputs against the workflow's: each must exist there, with a fitting type."""
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


def _expected_inputs(
    spec: launch_plan_pb2.LaunchPlanSpec, workflow_inputs: dict[str, interface_pb2.Variable]
) -> interface_pb2.ParameterMap:
    """The workflow's inputs the plan does not fix: its defaults, else required parameters."""
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
    return expanded


class LaunchPlans(RegistryBase):
    """Flyte Admin's launch plan manager."""

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
        _check_spec_inputs(spec)
        workflow_inputs = dict(interface.inputs.variables)
        _check_inputs_against(spec, workflow_inputs)
        expanded = _expected_inputs(spec, workflow_inputs)
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
