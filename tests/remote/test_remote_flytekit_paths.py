"""flytekit-entity paths of FlyteRemote, side by side with flytekit's FlyteRemote on the same sandbox.

The user's SerializationSettings are honoured field by field (the custom image above all), references to registered
entities run the entity they point at, and flytekit's Options are converted for ``execute``. Where flytekit has the
same call, it runs first against the same sandbox and ours must register byte-identical content under the same id
(Admin accepts identical content again and refuses different content, which our registration reports) or produce the
same execution spec.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import pytest

pytest.importorskip("flytekit")

import remote_flytekit_paths_entities as entities
from flyte_admin_sandbox import FlyteSandbox
from flyteidl.admin import launch_plan_pb2
from flytekit import Options as FlytekitOptions
from flytekit import reference_launch_plan, reference_task, reference_workflow
from flytekit.configuration import Config, FastSerializationSettings, ImageConfig, SerializationSettings
from flytekit.models import common as fk_common
from flytekit.models import security as fk_security
from flytekit.models.core.execution import WorkflowExecutionPhase
from flytekit.remote import FlyteRemote as FlytekitRemote
from remote_helpers import D, P, add_one_task, add_one_workflow, finish

from airflow_provider_flyte.exceptions import (
    FlyteEntityAlreadyExistsException,
    FlyteEntityNotExistException,
    FlyteInvalidInputException,
)
from airflow_provider_flyte.identifiers import Identifier, ResourceType
from airflow_provider_flyte.remote import FlyteLaunchPlan, FlyteRemote, FlyteTask, Options
from airflow_provider_flyte.remote.registration import default_launch_plan_spec

CUSTOM = "registry.example/team/custom:abc"
FLYTEKIT_DEFAULT_IMAGE = ImageConfig.auto_default_image().default_image.full


def _flytekit(sandbox: FlyteSandbox) -> FlytekitRemote:
    return FlytekitRemote(Config.for_endpoint(sandbox.endpoint, insecure=True), default_project=P, default_domain=D)


def _settings(version: str, **fields: Any) -> SerializationSettings:
    """A fresh settings object (flytekit changes the one it is given, so each side gets its own)."""
    return SerializationSettings(
        image_config=ImageConfig.from_images(CUSTOM), project=P, domain=D, version=version, **fields
    )


def _task_id(name: str, version: str) -> Identifier:
    return Identifier(ResourceType.TASK, P, D, name, version)


# ------------------------------------------------------------------ SerializationSettings


def test_register_task_keeps_the_custom_image_and_every_setting_as_flytekit(
    remote: FlyteRemote, flyte_sandbox: FlyteSandbox
) -> None:
    fields = {"env": {"TEAM": "data"}, "python_interpreter": "/opt/venv/bin/python3"}
    _flytekit(flyte_sandbox).register_task(entities.double, serialization_settings=_settings("img1", **fields))
    mine = _settings("img1", **fields)
    before = dataclasses.asdict(mine)
    # Identical content registers again (Admin: ALREADY_EXISTS); any difference would raise.
    task = remote.register_task(entities.double, serialization_settings=mine)
    assert task.id == _task_id("remote_flytekit_paths_entities.double", "img1")
    container = task.template.container
    assert container.image == CUSTOM
    assert {pair.key: pair.value for pair in container.env} == {"TEAM": "data"}
    assert container.args[0] == "pyflyte-execute"
    assert dataclasses.asdict(mine) == before  # the caller's settings are not changed
    # Without settings: flytekit's default image, as flytekit registers it.
    default = remote.register_task(entities.double, version="img2")
    assert default.template.container.image == FLYTEKIT_DEFAULT_IMAGE != CUSTOM


def test_register_workflow_and_launch_plan_keep_the_settings_as_flytekit(
    remote: FlyteRemote, flyte_sandbox: FlyteSandbox
) -> None:
    theirs = _flytekit(flyte_sandbox)
    theirs.register_workflow(entities.double_wf, serialization_settings=_settings("img3"), version="img3")
    theirs.register_launch_plan(entities.double_lp, version="img3", serialization_settings=_settings("img3"))
    workflow = remote.register_workflow(entities.double_wf, serialization_settings=_settings("img3"), version="img3")
    plan = remote.register_launch_plan(entities.double_lp, version="img3", serialization_settings=_settings("img3"))
    assert workflow.id.version == plan.id.version == "img3"
    assert plan.workflow_id == workflow.id
    assert plan.fixed_inputs == {}
    assert plan.input_variables.parameters["x"].default.scalar.primitive.integer == 5
    default_plan = remote.fetch_launch_plan(name=workflow.name, version="img3")
    assert default_plan.input_variables.parameters["x"].default.scalar.primitive.integer == 2
    task = remote.fetch_task(name="remote_flytekit_paths_entities.double", version="img3")
    assert task.template.container.image == CUSTOM


def test_launch_plan_with_a_new_version_registers_its_workflow_and_tasks_in_the_custom_image(
    remote: FlyteRemote,
) -> None:
    plan = remote.register_launch_plan(entities.double_lp, serialization_settings=_settings("img4"))
    assert plan.id == Identifier(ResourceType.LAUNCH_PLAN, P, D, "remote_flytekit_paths_entities.double_lp", "img4")
    task = remote.fetch_task(name="remote_flytekit_paths_entities.double", version="img4")
    assert task.template.container.image == CUSTOM
    execution = finish(remote.execute(plan, inputs={"x": 4}))
    assert execution.is_successful


def test_execute_registers_a_python_entity_with_the_given_settings_or_image(remote: FlyteRemote) -> None:
    execution = finish(remote.execute(entities.double_wf, inputs={"x": 3}, serialization_settings=_settings("img5")))
    assert execution.is_successful
    assert execution.launched_entity_id.version == "img5"
    task = remote.fetch_task(name="remote_flytekit_paths_entities.double", version="img5")
    assert task.template.container.image == CUSTOM
    other = ImageConfig.from_images("registry.example/team/other:1")
    finish(remote.execute(entities.double, inputs={"x": 1}, version="img6", image_config=other))
    task = remote.fetch_task(name="remote_flytekit_paths_entities.double", version="img6")
    assert task.template.container.image == "registry.example/team/other:1"


def test_fields_that_cannot_apply_are_named_in_a_warning(remote: FlyteRemote, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    # A spec is serialized already: only project, domain and version apply.
    remote.register_task(add_one_task("w1"), serialization_settings=_settings("w1", env={"A": "b"}))
    spec_warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("serialization_settings.image_config is not applied" in m for m in spec_warnings), spec_warnings
    assert any("serialization_settings.env is not applied" in m for m in spec_warnings), spec_warnings
    assert not any("serialization_settings.version" in m for m in spec_warnings)
    caplog.clear()
    # The method's version wins over the settings' (as flytekit regards arguments as overrides), with a warning.
    task = remote.register_task(entities.double, serialization_settings=_settings("w2"), version="w3")
    assert task.id.version == "w3"
    assert task.template.id.version == "w3"
    fast = FastSerializationSettings(enabled=True)
    remote.register_task(entities.double, serialization_settings=_settings("w4", fast_serialization_settings=fast))
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("serialization_settings.version='w2' is overridden by version='w3'" in m for m in messages), messages
    assert any("fast_serialization_settings.distribution_location is empty" in m for m in messages), messages


def test_settings_of_another_type_are_refused_naming_the_argument(remote: FlyteRemote) -> None:
    with pytest.raises(FlyteInvalidInputException, match=r"^serialization_settings=\{'image': 'x'\} \(dict\) is not"):
        remote.register_task(entities.double, serialization_settings={"image": "x"}, version="v1")
    with pytest.raises(FlyteInvalidInputException, match="is a flytekit workflow, not a task; register it with"):
        remote.register_task(entities.double_wf, version="v1")


# ------------------------------------------------------------------ reference entities


@reference_task(project=P, domain=D, name="remote.add_one", version="v1")
def add_one_ref(x: int) -> int:
    return x  # never runs: a reference stands for the registered task


@reference_launch_plan(project=P, domain=D, name="remote.wf", version="v1")
def add_two_plan_ref(x: int) -> int:
    return x


@reference_workflow(project=P, domain=D, name="remote.wf", version="v1")
def add_two_workflow_ref(x: int) -> int:
    return x


@reference_task(project=P, domain=D, name="remote.add_one", version="")
def add_one_latest_ref(x: int) -> int:
    return x


@reference_task(project=P, domain=D, name="remote.nowhere", version="v1")
def missing_ref(x: int) -> int:
    return x


@pytest.mark.parametrize(
    ("reference", "launched"),
    [
        (add_one_ref, Identifier(ResourceType.TASK, P, D, "remote.add_one", "v1")),
        (add_two_plan_ref, Identifier(ResourceType.LAUNCH_PLAN, P, D, "remote.wf", "v1")),
        (add_two_workflow_ref, Identifier(ResourceType.LAUNCH_PLAN, P, D, "remote.wf", "v1")),
    ],
)
def test_execute_a_reference_runs_the_registered_entity_as_flytekit(
    remote: FlyteRemote, flyte_sandbox: FlyteSandbox, reference: Any, launched: Identifier
) -> None:
    remote.register_task(add_one_task("v1"))
    remote.register_workflow(add_one_workflow())
    mine = finish(remote.execute(reference, inputs={"x": 3}))
    theirs = _flytekit(flyte_sandbox)
    their_run = theirs.wait(theirs.execute(reference, inputs={"x": 3}), timeout=60, poll_interval=0.05)
    assert their_run.closure.phase == WorkflowExecutionPhase.SUCCEEDED
    assert mine.is_successful
    assert Identifier.from_flyte_idl(mine.launched_entity_id) == launched
    their_launched = Identifier.from_flyte_idl(their_run.spec.launch_plan.to_flyte_idl())
    assert their_launched == launched
    assert (mine.id.project, mine.id.domain) == (their_run.id.project, their_run.id.domain) == (P, D)
    expected = 4 if launched.resource_type is ResourceType.TASK else 5
    assert mine.outputs["o0"] == their_run.outputs["o0"] == expected


def test_a_referenced_workflow_without_launch_plan_gets_a_default_one(remote: FlyteRemote) -> None:
    remote.register_task(add_one_task("v1"))
    remote.register_workflow(add_one_workflow(version="v2"), default_launch_plan=False)

    @reference_workflow(project=P, domain=D, name="remote.wf", version="v2")
    def workflow_ref(x: int) -> int:
        return x

    # flytekit tries LaunchPlan.get_default_launch_plan on the reference here, which raises AttributeError.
    execution = finish(remote.execute(workflow_ref, inputs={"x": 10}))
    assert execution.is_successful
    assert Identifier.from_flyte_idl(execution.launched_entity_id) == Identifier(
        ResourceType.LAUNCH_PLAN, P, D, "remote.wf", "v2"
    )
    assert execution.outputs["o0"] == 12


def test_references_without_version_missing_or_registered(remote: FlyteRemote) -> None:
    remote.register_task(add_one_task("v1"))
    remote.register_task(add_one_task("v2"))
    latest = finish(remote.execute(add_one_latest_ref, inputs={"x": 1}))
    assert latest.launched_entity_id.version == "v2"  # an empty version means the newest, as fetch_task's
    with pytest.raises(
        FlyteEntityNotExistException, match=r": reference_task\(project='flytesnacks'.*'remote.nowhere'"
    ):
        remote.execute(missing_ref, inputs={"x": 1})
    # Registering a reference fetches what it points at (it is registered already).
    task = remote.register_task(add_one_ref)
    assert isinstance(task, FlyteTask)
    assert task.id == _task_id("remote.add_one", "v1")
    with pytest.raises(FlyteInvalidInputException, match=r"reference to the task .* register_launch_plan takes a"):
        remote.register_launch_plan(add_one_ref)


# ------------------------------------------------------------------ flytekit's Options


def _flytekit_options(**overrides: Any) -> FlytekitOptions:
    from flytekit.models.core.execution import WorkflowExecutionPhase as Phase

    values: dict[str, Any] = {
        "labels": fk_common.Labels({"team": "data"}),
        "annotations": fk_common.Annotations({"owner": "ana"}),
        "raw_output_data_config": fk_common.RawOutputDataConfig("s3://bucket/raw"),
        "security_context": fk_security.SecurityContext(run_as=fk_security.Identity(k8s_service_account="runner")),
        "max_parallelism": 3,
        "notifications": [fk_common.Notification([Phase.FAILED], email=fk_common.EmailNotification(["a@b.example"]))],
        "disable_notifications": False,
    }
    values.update(overrides)
    return FlytekitOptions(**values)


def test_execute_with_flytekit_options_sends_the_spec_flytekit_sends(
    remote: FlyteRemote, flyte_sandbox: FlyteSandbox
) -> None:
    remote.register_task(add_one_task("v1"))
    remote.register_workflow(add_one_workflow())
    plan = remote.fetch_launch_plan(name="remote.wf", version="v1")
    theirs = _flytekit(flyte_sandbox)
    their_plan = theirs.fetch_launch_plan(P, D, "remote.wf", "v1")

    def specs(options: Any) -> tuple[Any, Any]:
        their_run = theirs.execute(their_plan, inputs={"x": 1}, options=options)
        mine = remote.execute(plan, inputs={"x": 1}, options=options)
        their_spec = remote.client.get_execution(their_run.id.to_flyte_idl()).spec
        return remote.client.get_execution(mine.id.to_flyte_idl()).spec, their_spec

    fields = ("labels", "annotations", "raw_output_data_config", "security_context", "max_parallelism")
    for options in (_flytekit_options(notifications=None, disable_notifications=None), _flytekit_options()):
        my_spec, their_spec = specs(options)
        for field in fields:
            assert getattr(my_spec, field) == getattr(their_spec, field), field
        assert my_spec.labels.values["team"] == "data"
        assert my_spec.security_context.run_as.k8s_service_account == "runner"
    # flytekit sets disable_all=False after the notifications, in the same oneof: its list is lost. Ours is sent.
    assert their_spec.WhichOneof("notification_overrides") == "disable_all"
    assert my_spec.notifications.notifications[0].email.recipients_email == ["a@b.example"]
    my_spec, their_spec = specs(_flytekit_options(disable_notifications=True))
    assert my_spec.disable_all
    assert their_spec.disable_all


def test_flytekit_options_convert_field_by_field_or_are_refused_naming_the_field() -> None:
    converted = Options.from_flytekit(_flytekit_options(overwrite_cache=True))
    assert converted.labels == {"team": "data"}
    assert converted.annotations == {"owner": "ana"}
    assert converted.raw_output_data_config is not None
    assert converted.security_context is not None
    assert converted.security_context.run_as.k8s_service_account == "runner"
    assert converted.max_parallelism == 3
    assert converted.overwrite_cache is True
    assert converted.notifications is not None
    assert len(converted.notifications) == 1
    with pytest.raises(FlyteInvalidInputException, match=r"^flytekit Options\.labels=5 cannot be converted"):
        Options.from_flytekit(FlytekitOptions(labels=5))  # type: ignore[arg-type]
    with pytest.raises(FlyteInvalidInputException, match=r"^flytekit Options\.security_context='runner' cannot"):
        Options.from_flytekit(FlytekitOptions(security_context="runner"))  # type: ignore[arg-type]
    extended = dataclasses.make_dataclass(
        "Options", [("priority", int, dataclasses.field(default=0))], bases=(FlytekitOptions,)
    )
    with pytest.raises(FlyteInvalidInputException, match=r"^flytekit Options\.priority=7 cannot be converted"):
        Options.from_flytekit(extended(priority=7))


def test_a_wrong_options_type_is_refused_before_anything_is_sent(remote: FlyteRemote) -> None:
    plan = remote.fetch_launch_plan(name="demo.nightly", version="v1")
    with pytest.raises(FlyteInvalidInputException, match=r"^options=\{'labels': \{\}\} \(dict\) is not an Options"):
        remote.execute(plan, options={"labels": {}})


def test_register_launch_plan_with_flytekit_options_registers_what_flytekit_registers(
    remote: FlyteRemote, flyte_sandbox: FlyteSandbox
) -> None:
    options = _flytekit_options(notifications=None, disable_notifications=None)
    _flytekit(flyte_sandbox).register_launch_plan(entities.double_lp, version="o1", options=options)
    plan = remote.register_launch_plan(
        entities.double_lp, version="o1", options=_flytekit_options(notifications=None, disable_notifications=None)
    )
    assert dict(plan.spec.labels.values) == {"team": "data"}
    assert plan.spec.security_context.run_as.k8s_service_account == "runner"
    # Different options under the same id are different content: refused, as any other change.
    with pytest.raises(FlyteEntityAlreadyExistsException, match="different content"):
        remote.register_launch_plan(entities.double_lp, version="o1", options=Options(labels={"team": "ml"}))
    ours = remote.register_launch_plan(entities.double_lp, version="o2", options=Options(labels={"team": "ml"}))
    # A launch plan spec takes flytekit's Options too, converted.
    remote.register_task(add_one_task("v1"))
    workflow = remote.register_workflow(add_one_workflow(), default_launch_plan=False)
    spec = launch_plan_pb2.LaunchPlan(
        id=Identifier(ResourceType.LAUNCH_PLAN, P, D, "remote.wf.labelled", "v1").to_flyte_idl(),
        spec=default_launch_plan_spec(workflow.id),
    )
    labelled = remote.register_launch_plan(spec, options=_flytekit_options(notifications=None))
    assert dict(labelled.spec.labels.values) == {"team": "data"}
    assert labelled.spec.raw_output_data_config.output_location_prefix == "s3://bucket/raw"
    assert isinstance(ours, FlyteLaunchPlan)
    assert dict(ours.spec.labels.values) == {"team": "ml"}
