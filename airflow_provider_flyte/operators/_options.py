"""Turn FlyteOperator's plain-Python execution settings into :class:`~airflow_provider_flyte.remote.Options`.

The operator takes labels, secrets, notifications and the like as dicts and lists, as the 0.0.5 provider did, so DAG
files stay free of protobuf. They are checked and converted here, when the task runs, each error naming the task,
the argument and the offending value. Unlike 0.0.5, a notification carries exactly one of its channels (the message
holds them in a ``oneof``) and ``raw_output_data_config`` is honoured.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flyteidl.admin import common_pb2
from flyteidl.core import execution_pb2, security_pb2

from airflow_provider_flyte.exceptions import FlyteInvalidInputException
from airflow_provider_flyte.remote import Options

_CHANNELS = {
    "email": common_pb2.EmailNotification,
    "slack": common_pb2.SlackNotification,
    "pager_duty": common_pb2.PagerDutyNotification,
}
_CHANNEL_ALIASES = {"pagerduty": "pager_duty"}
_SECRET_KEYS = frozenset({"group", "key", "group_version", "mount_requirement"})
_MOUNT = {"ANY": 0, "ENV_VAR": 1, "FILE": 2}


def build_options(
    *,
    task_id: str,
    labels: Any = None,
    annotations: Any = None,
    max_parallelism: Any = None,
    raw_output_data_config: Any = None,
    kubernetes_service_account: Any = None,
    oauth2_client: Any = None,
    secrets: Any = None,
    notifications: Any = None,
    disable_notifications: Any = None,
) -> Options:
    """Validate the operator's settings and build the execution :class:`Options`.

    Raises:
        FlyteInvalidInputException: naming the task, argument and value at fault.
    """

    def bad(argument: str, value: Any, expected: str) -> FlyteInvalidInputException:
        return FlyteInvalidInputException(f"{task_id}: {argument}={value!r} must be {expected}")

    security = _security_context(task_id, kubernetes_service_account, oauth2_client, secrets, bad)
    if raw_output_data_config is not None and not isinstance(raw_output_data_config, str):
        raise bad("raw_output_data_config", raw_output_data_config, "a storage prefix string such as 's3://b/p'")
    try:
        return Options(
            labels=_str_map(labels, "labels", bad),
            annotations=_str_map(annotations, "annotations", bad),
            raw_output_data_config=raw_output_data_config or None,
            security_context=security,
            max_parallelism=max_parallelism,
            notifications=_notifications(notifications, bad),
            disable_notifications=disable_notifications,
        )
    except FlyteInvalidInputException as error:
        raise FlyteInvalidInputException(f"{task_id}: {error}") from None


def _str_map(value: Any, argument: str, bad: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise bad(argument, value, "a mapping of strings to strings")
    return {key: str(item) for key, item in value.items()}


def _security_context(
    task_id: str, service_account: Any, oauth2_client: Any, secrets: Any, bad: Any
) -> security_pb2.SecurityContext | None:
    if not (service_account or oauth2_client or secrets):
        return None
    context = security_pb2.SecurityContext()
    if service_account:
        if not isinstance(service_account, str):
            raise bad("kubernetes_service_account", service_account, "a string")
        context.run_as.k8s_service_account = service_account
    if oauth2_client:
        if not isinstance(oauth2_client, Mapping) or not isinstance(oauth2_client.get("client_id"), str):
            raise bad(
                "oauth2_client", oauth2_client, "a dict with a string 'client_id' and a 'client_secret' reference"
            )
        unknown = sorted(set(oauth2_client) - {"client_id", "client_secret"})
        if unknown:
            raise FlyteInvalidInputException(f"{task_id}: oauth2_client has unknown key(s) {', '.join(unknown)}")
        context.run_as.oauth2_client.client_id = oauth2_client["client_id"]
        reference = oauth2_client.get("client_secret")
        if reference is not None:
            context.run_as.oauth2_client.client_secret.CopyFrom(_secret(reference, "oauth2_client.client_secret", bad))
    if secrets:
        if not isinstance(secrets, list):
            raise bad("secrets", secrets, "a list of {'group': ..., 'key': ...} dicts")
        context.secrets.extend(_secret(item, f"secrets[{index}]", bad) for index, item in enumerate(secrets))
    return context


def _secret(value: Any, argument: str, bad: Any) -> security_pb2.Secret:
    # A Flyte secret reference names where the secret lives; it is not the secret's value.
    if not isinstance(value, Mapping) or not isinstance(value.get("group"), str) or not value.get("group"):
        raise bad(argument, value, "a secret reference dict with a 'group' (and optionally 'key', 'group_version')")
    unknown = sorted(set(value) - _SECRET_KEYS)
    if unknown:
        raise bad(argument, value, f"a secret reference without the unknown key(s) {', '.join(unknown)}")
    mount = str(value.get("mount_requirement") or "ANY").upper()
    if mount not in _MOUNT:
        raise bad(f"{argument}.mount_requirement", value.get("mount_requirement"), "ANY, ENV_VAR or FILE")
    return security_pb2.Secret(
        group=value["group"],
        key=str(value.get("key") or ""),
        group_version=str(value.get("group_version") or ""),
        mount_requirement=_MOUNT[mount],  # type: ignore[arg-type]
    )


def _notifications(value: Any, bad: Any) -> list[common_pb2.Notification] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise bad("notifications", value, "a list of notification dicts")
    result = []
    for index, item in enumerate(value):
        argument = f"notifications[{index}]"
        if not isinstance(item, Mapping):
            raise bad(argument, item, "a dict with 'phases' and one of 'email', 'slack', 'pager_duty'")
        keys: dict[str, str] = {_CHANNEL_ALIASES.get(str(key), str(key)): str(key) for key in item if key != "phases"}
        unknown = sorted(key for key in keys if key not in _CHANNELS)
        if unknown or len(keys) != 1:
            raise bad(argument, item, "a dict with 'phases' and exactly one of 'email', 'slack', 'pager_duty'")
        channel, given_key = next(iter(keys.items()))
        recipients = item[given_key]
        emails = recipients.get("recipients_email") if isinstance(recipients, Mapping) else recipients
        if not isinstance(emails, list) or not emails or not all(isinstance(e, str) for e in emails):
            raise bad(f"{argument}.{given_key}", recipients, "{'recipients_email': [addresses]}")
        phases = item.get("phases")
        if not isinstance(phases, list) or not phases:
            raise bad(f"{argument}.phases", phases, "a non-empty list of workflow phases such as ['FAILED']")
        phase_names = [str(phase).upper() for phase in phases]
        if not set(phase_names) <= set(execution_pb2.WorkflowExecution.Phase.keys()):
            raise bad(f"{argument}.phases", phases, "workflow phase names such as 'SUCCEEDED' or 'FAILED'")
        notification = common_pb2.Notification(phases=phase_names)
        getattr(notification, channel).CopyFrom(_CHANNELS[channel](recipients_email=emails))
        result.append(notification)
    return result
