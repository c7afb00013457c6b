"""Options from plain values, Options on execution and launch plan specs, execution names, FlyteRemote's surface."""

from __future__ import annotations

import inspect
import re

import pytest
from flyteidl.admin import execution_pb2, launch_plan_pb2
from flyteidl.core import execution_pb2 as core_execution_pb2

from airflow_provider_flyte.exceptions import FlyteInvalidInputException
from airflow_provider_flyte.remote import FlyteRemote, Options
from airflow_provider_flyte.remote._executing import _execution_name


def test_from_plain_converts_json_values() -> None:
    options = Options.from_plain(
        labels={"team": "ml", "tier": 1},
        annotations={"owner": "ada"},
        max_parallelism=3,
        raw_output_data_config="s3://bucket/prefix",
        kubernetes_service_account="runner",
        iam_role="arn:aws:iam::123456789012:role/flyte",
        oauth2_client={"client_id": "svc", "client_secret": {"group": "oauth", "key": "secret"}},
        secrets=[{"group": "db", "key": "password", "mount_requirement": "file"}],
        notifications=[
            {"phases": ["failed"], "slack": ["s@example.com"]},
            {"phases": ["SUCCEEDED"], "pagerduty": {"recipients_email": ["p@example.com"]}},
        ],
        disable_notifications=False,
    )
    assert options.labels == {"team": "ml", "tier": "1"}
    assert options.annotations == {"owner": "ada"}
    assert options.max_parallelism == 3
    assert options.raw_output_data_config == "s3://bucket/prefix"
    security = options.security_context
    assert security is not None
    assert security.run_as.k8s_service_account == "runner"
    assert security.run_as.iam_role == "arn:aws:iam::123456789012:role/flyte"
    assert security.run_as.oauth2_client.client_id == "svc"
    assert security.run_as.oauth2_client.client_secret.key == "secret"
    assert (security.secrets[0].group, security.secrets[0].mount_requirement) == ("db", 2)
    slack, pager = options.notifications or []
    assert slack.WhichOneof("type") == "slack"
    assert list(slack.slack.recipients_email) == ["s@example.com"]
    assert list(slack.phases) == [core_execution_pb2.WorkflowExecution.FAILED]
    assert pager.WhichOneof("type") == "pager_duty"
    assert options.disable_notifications is False
    assert Options.from_plain() == Options()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"labels": ["x"]}, "t: labels=['x'] must be a mapping of strings to strings"),
        ({"annotations": {1: "x"}}, "t: annotations={1: 'x'} must be a mapping"),
        ({"notifications": [{"phases": ["DONE"], "email": ["a@b.c"]}]}, "t: notifications[0].phases=['DONE']"),
        ({"notifications": {"email": []}}, "t: notifications={'email': []} must be a list"),
        ({"secrets": [{"group": "g", "path": "/x"}]}, "t: secrets[0]="),
        ({"secrets": [{"group": "g", "mount_requirement": "disk"}]}, "t: secrets[0].mount_requirement='disk'"),
        ({"oauth2_client": {"client_id": "c", "extra": 1}}, "t: oauth2_client has unknown key(s) extra"),
        ({"kubernetes_service_account": 5}, "t: kubernetes_service_account=5 must be a string"),
        ({"iam_role": ["r"]}, "t: iam_role=['r'] must be a string"),
        ({"raw_output_data_config": 3}, "t: raw_output_data_config=3 must be a storage prefix"),
        ({"max_parallelism": -1}, "t: Options.max_parallelism=-1"),
        ({"disable_notifications": "yes"}, "t: Options.disable_notifications='yes'"),
    ],
)
def test_from_plain_names_the_source_once(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(FlyteInvalidInputException, match="^" + re.escape(message)):
        Options.from_plain(source="t", **kwargs)  # type: ignore[arg-type]


def test_from_plain_without_a_source_has_no_prefix() -> None:
    with pytest.raises(FlyteInvalidInputException, match=r"^labels=\['x'\] must be"):
        Options.from_plain(labels=["x"])


def test_one_apply_to_serves_execution_and_launch_plan_specs() -> None:
    options = Options.from_plain(
        labels={"a": "b"},
        annotations={"c": "d"},
        raw_output_data_config="gs://raw",
        kubernetes_service_account="runner",
        max_parallelism=2,
        notifications=[{"phases": ["FAILED"], "email": ["a@example.com"]}],
    ).merged_with(overwrite_cache=True, interruptible=True)
    execution_spec = execution_pb2.ExecutionSpec()
    launch_plan_spec = launch_plan_pb2.LaunchPlanSpec()
    options.apply_to(execution_spec)
    options.apply_to(launch_plan_spec)
    for spec in (execution_spec, launch_plan_spec):
        assert dict(spec.labels.values) == {"a": "b"}
        assert dict(spec.annotations.values) == {"c": "d"}
        assert spec.raw_output_data_config.output_location_prefix == "gs://raw"
        assert spec.security_context.run_as.k8s_service_account == "runner"
        assert spec.max_parallelism == 2
        assert spec.overwrite_cache
    # Notifications and interruptible are execution settings: a launch plan spec is left without them.
    assert execution_spec.notifications.notifications[0].email.recipients_email == ["a@example.com"]
    assert execution_spec.interruptible.value
    assert not launch_plan_spec.entity_metadata.notifications
    assert not launch_plan_spec.HasField("interruptible")


def test_execution_names_follow_the_shared_rule() -> None:
    assert _execution_name(None, None) is None
    assert _execution_name("nightly-1", None) == "nightly-1"
    generated = _execution_name(None, "nightly")
    assert generated is not None
    assert re.fullmatch(r"nightly-[0-9a-f]{19}", generated)
    assert _execution_name(None, "x" * 43) is not None  # 43 + 1 + 19 = 63 characters
    with pytest.raises(FlyteInvalidInputException, match=r"^execution_name='Bad_Name' is not a valid"):
        _execution_name("Bad_Name", None)
    with pytest.raises(FlyteInvalidInputException, match=r"^execution_name='a{64}' .*at most 63 characters"):
        _execution_name("a" * 64, None)
    with pytest.raises(FlyteInvalidInputException, match=r"^execution_name_prefix='x{44}' gives execution_name="):
        _execution_name(None, "x" * 44)
    with pytest.raises(FlyteInvalidInputException, match=r"^execution_name_prefix='9lives' gives"):
        _execution_name(None, "9lives")
    with pytest.raises(FlyteInvalidInputException, match="not both"):
        _execution_name("a", "b")


def test_flyte_remote_keeps_its_public_methods() -> None:
    # The class is composed of mixins, one module per concern; its surface is flytekit's plus our additions.
    expected = {
        "auto", "for_endpoint", "for_sandbox", "client", "close", "resolve_project_domain",
        "fetch_task", "fetch_workflow", "fetch_launch_plan", "fetch_active_launchplan", "fetch_task_lazy",
        "fetch_workflow_lazy", "fetch_launch_plan_lazy", "activate_launchplan", "deactivate_launchplan",
        "execute", "fetch_execution", "sync", "sync_execution", "fetch_task_node_executions", "fetch_dynamic_workflow",
        "wait", "wait_clock", "terminate", "relaunch_execution", "recover_execution", "get_execution_metrics",
        "fetch_io_literals", "list_executions", "recent_executions", "list_signals", "approve", "reject", "set_input",
        "set_signal", "launch_backfill", "register_task", "register_workflow", "register_launch_plan",
        "register_package", "register_flytekit_entity", "fast_package", "register_script", "fast_register_workflow",
        "interactive_mode_enabled", "upload_file", "list_projects",
        "register_project", "update_project", "get_domains", "file_access", "get", "download",
        "generate_console_http_domain", "generate_console_url",
    }  # fmt: skip
    public = {name for name in dir(FlyteRemote) if not name.startswith("_")}
    assert expected <= public
    assert FlyteRemote.set_signal is FlyteRemote.set_input
    assert FlyteRemote.__module__ == "airflow_provider_flyte.remote.remote"
    assert list(inspect.signature(FlyteRemote).parameters) == [
        "config",
        "default_project",
        "default_domain",
        "data_upload_location",
        "interactive_mode_enabled",
        "client",
    ]
