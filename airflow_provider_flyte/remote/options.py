"""Execution-level settings (:class:`Options`) and how they land in an ``admin.ExecutionSpec`` or ``LaunchPlanSpec``.

``Options`` mirrors flytekit's ``flytekit.Options`` field for field, and accepts plain Python values where flytekit
wants model objects (a dict for labels, a string prefix for the raw output location), so a DAG file can build one
without importing protobuf code. :meth:`Options.from_plain` builds one from JSON-able values only (dicts and lists
for the security context and notifications), as FlyteOperator takes them; ``flyteidl`` is imported when it runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_flyte.exceptions import FlyteInvalidInputException

if TYPE_CHECKING:
    from flyteidl.admin import common_pb2, execution_pb2, launch_plan_pb2
    from flyteidl.core import security_pb2

_CHANNELS = {"email": "EmailNotification", "slack": "SlackNotification", "pager_duty": "PagerDutyNotification"}
_CHANNEL_ALIASES = {"pagerduty": "pager_duty"}
_SECRET_KEYS = frozenset({"group", "key", "group_version", "mount_requirement"})
_MOUNT = {"ANY": 0, "ENV_VAR": 1, "FILE": 2}


@dataclass(frozen=True)
class Options:
    """Settings applied to one execution, overriding the launch plan's.

    Attributes:
        labels: Kubernetes labels for the execution's resources (``str -> str``).
        annotations: Kubernetes annotations for the execution's resources (``str -> str``).
        raw_output_data_config: Where offloaded data goes: a prefix such as ``s3://bucket/key`` or an
            ``admin.RawOutputDataConfig`` message.
        security_context: A ``core.SecurityContext`` message (service account, IAM role, secrets).
        max_parallelism: Upper bound of task nodes running at once in the whole workflow (``0`` = server default).
        notifications: ``admin.Notification`` messages replacing the launch plan's.
        disable_notifications: ``True`` silences every notification; ``False`` sends exactly ``notifications``;
            ``None`` (default) sends an empty override list, as flytekit does.
        overwrite_cache: Recompute cached tasks and overwrite their cache entries.
        interruptible: Run the tasks on interruptible (spot) nodes, or forbid it; ``None`` keeps the definition's.
    """

    labels: Mapping[str, str] | None = None
    annotations: Mapping[str, str] | None = None
    raw_output_data_config: str | common_pb2.RawOutputDataConfig | None = None
    security_context: security_pb2.SecurityContext | None = None
    max_parallelism: int | None = None
    notifications: Sequence[common_pb2.Notification] | None = field(default=None)
    disable_notifications: bool | None = None
    overwrite_cache: bool | None = None
    interruptible: bool | None = None

    def __post_init__(self) -> None:
        for name in ("labels", "annotations"):
            value = getattr(self, name)
            if value is None:
                continue
            if not isinstance(value, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in value.items()
            ):
                raise FlyteInvalidInputException(f"Options.{name}={value!r} must be a mapping of strings to strings")
        mp = self.max_parallelism
        if mp is not None and (isinstance(mp, bool) or not isinstance(mp, int) or mp < 0):
            raise FlyteInvalidInputException(f"Options.max_parallelism={mp!r} must be a non-negative integer")
        for name in ("disable_notifications", "overwrite_cache", "interruptible"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, bool):
                raise FlyteInvalidInputException(f"Options.{name}={value!r} must be True, False or None")
        if isinstance(self.raw_output_data_config, str) and not self.raw_output_data_config.strip():
            raise FlyteInvalidInputException("Options.raw_output_data_config is an empty string")

    @classmethod
    def default_from(cls, k8s_service_account: str | None = None, raw_data_prefix: str | None = None) -> Options:
        """Options running as ``k8s_service_account`` and writing offloaded data under ``raw_data_prefix``."""
        security_context = None
        if k8s_service_account:
            from flyteidl.core import security_pb2

            security_context = security_pb2.SecurityContext(
                run_as=security_pb2.Identity(k8s_service_account=k8s_service_account)
            )
        return cls(security_context=security_context, raw_output_data_config=raw_data_prefix or None)

    @classmethod
    def from_plain(
        cls,
        *,
        labels: Any = None,
        annotations: Any = None,
        max_parallelism: Any = None,
        raw_output_data_config: Any = None,
        kubernetes_service_account: Any = None,
        oauth2_client: Any = None,
        secrets: Any = None,
        notifications: Any = None,
        disable_notifications: Any = None,
        source: str | None = None,
        iam_role: Any = None,
    ) -> Options:
        """Options from plain JSON-able values, as FlyteOperator (and the 0.0.5 provider) take them.

        Every value is checked; a notification carries exactly one channel (the message holds them in a ``oneof``).

        Args:
            labels: ``{str: value}``; values are turned into strings.
            annotations: ``{str: value}``; values are turned into strings.
            max_parallelism: A non-negative integer.
            raw_output_data_config: A storage prefix string such as ``"s3://bucket/prefix"``.
            kubernetes_service_account: The service account to run as.
            iam_role: The IAM role to run as (``pyflyte run --iam-role``).
            oauth2_client: ``{"client_id": str, "client_secret": <secret reference>}``.
            secrets: Secret references ``[{"group": ..., "key": ..., "group_version": ..., "mount_requirement":
                "ANY" | "ENV_VAR" | "FILE"}]`` (where a secret lives, never its value).
            notifications: ``[{"phases": ["FAILED", ...], "email" | "slack" | "pager_duty": {"recipients_email":
                [...]}}]`` (a bare list of addresses is accepted for the channel, ``pagerduty`` for ``pager_duty``).
            disable_notifications: ``True`` silences every notification.
            source: Where the values come from (a task id), put before every error message.

        Raises:
            FlyteInvalidInputException: naming the argument and the value at fault (after ``source:``).
        """
        plain = _Plain(source)
        security = _security_context(kubernetes_service_account, iam_role, oauth2_client, secrets, plain)
        if raw_output_data_config is not None and not isinstance(raw_output_data_config, str):
            raise plain.bad(
                "raw_output_data_config", raw_output_data_config, "a storage prefix string such as 's3://b/p'"
            )
        label_map = _str_map(labels, "labels", plain)
        annotation_map = _str_map(annotations, "annotations", plain)
        notification_list = _notifications(notifications, plain)
        try:
            return cls(
                labels=label_map,
                annotations=annotation_map,
                raw_output_data_config=raw_output_data_config or None,
                security_context=security,
                max_parallelism=max_parallelism,
                notifications=notification_list,
                disable_notifications=disable_notifications,
            )
        except FlyteInvalidInputException as error:
            raise plain.error(str(error)) from None

    @classmethod
    def from_flytekit(cls, options: Any) -> Options:
        """Options from flytekit's ``Options`` (``flytekit.remote.Options``), field by field.

        flytekit's model objects become the flyteidl messages they stand for (``Labels`` and ``Annotations`` their
        ``values``). flytekit ignores ``overwrite_cache`` of its Options when executing; here it is honoured.

        Raises:
            FlyteInvalidInputException: naming the field that cannot be converted, its value and what it must be.
        """
        values: dict[str, Any] = {}
        for name, value in _public_fields(options).items():
            if value is None:
                continue
            convert = _FROM_FLYTEKIT.get(name)
            if convert is None:
                raise FlyteInvalidInputException(
                    f"flytekit Options.{name}={value!r} cannot be converted: this provider's Options has no {name!r} "
                    "field; leave it unset (None)"
                )
            values[name] = convert(value, f"flytekit Options.{name}")
        return cls(**values)

    def merged_with(self, **overrides: Any) -> Options:
        """Return a copy where the given fields that are not ``None`` replace this object's values."""
        values = {name: getattr(self, name) for name in self.__dataclass_fields__}
        values.update({key: value for key, value in overrides.items() if value is not None})
        return Options(**values)

    def apply_to(self, spec: execution_pb2.ExecutionSpec | launch_plan_pb2.LaunchPlanSpec) -> None:
        """Write these options into an ``admin.ExecutionSpec`` or an ``admin.LaunchPlanSpec`` (in place).

        Both take the labels, annotations, raw output location, security context, max parallelism and
        ``overwrite_cache``. Notifications and ``interruptible`` are written into an ``ExecutionSpec`` only.
        Notifications follow flytekit: ``disable_notifications=True`` sets ``disable_all``; otherwise the list
        (possibly empty) becomes the override.
        """
        from flyteidl.admin import common_pb2, execution_pb2
        from google.protobuf import wrappers_pb2

        if self.labels:
            spec.labels.CopyFrom(common_pb2.Labels(values=dict(self.labels)))
        if self.annotations:
            spec.annotations.CopyFrom(common_pb2.Annotations(values=dict(self.annotations)))
        raw = self.raw_output_data_config
        if isinstance(raw, str):
            spec.raw_output_data_config.CopyFrom(common_pb2.RawOutputDataConfig(output_location_prefix=raw))
        elif raw is not None:
            spec.raw_output_data_config.CopyFrom(raw)
        if self.security_context is not None:
            spec.security_context.CopyFrom(self.security_context)
        if self.max_parallelism:
            spec.max_parallelism = self.max_parallelism
        if self.overwrite_cache is not None:
            spec.overwrite_cache = self.overwrite_cache
        if not isinstance(spec, execution_pb2.ExecutionSpec):
            return
        if self.disable_notifications:
            spec.disable_all = True
        else:
            spec.notifications.CopyFrom(execution_pb2.NotificationList(notifications=list(self.notifications or ())))
        if self.interruptible is not None:
            spec.interruptible.CopyFrom(wrappers_pb2.BoolValue(value=self.interruptible))


def as_options(value: Any, argument: str = "options") -> Options | None:
    """``value`` as this provider's :class:`Options`: ours as is, flytekit's converted (:meth:`Options.from_flytekit`).

    Raises:
        FlyteInvalidInputException: for any other type, or a flytekit field that cannot be converted.
    """
    if value is None or isinstance(value, Options):
        return value
    if is_flytekit_options(value):
        return Options.from_flytekit(value)
    raise FlyteInvalidInputException(
        f"{argument}={value!r} ({type(value).__name__}) is not an Options; pass "
        "airflow_provider_flyte.remote.Options(...) or flytekit's Options"
    )


def is_flytekit_options(value: Any) -> bool:
    """Whether ``value`` is flytekit's ``Options`` (checked without importing flytekit)."""
    return type(value).__name__ == "Options" and any(
        cls.__module__.startswith("flytekit.") for cls in type(value).__mro__
    )


def _public_fields(options: Any) -> dict[str, Any]:
    if is_dataclass(options) and not isinstance(options, type):
        return {item.name: getattr(options, item.name) for item in fields(options)}
    return {name: value for name, value in vars(options).items() if not name.startswith("_")}


def _flytekit_map(value: Any, argument: str) -> dict[str, str]:
    """A flytekit ``Labels`` / ``Annotations`` model (or a plain mapping) as a dict."""
    mapping = value if isinstance(value, Mapping) else getattr(value, "values", None)
    if not isinstance(mapping, Mapping):
        raise FlyteInvalidInputException(
            f"{argument}={value!r} cannot be converted: expected flytekit's model with a 'values' mapping or a dict"
        )
    return dict(mapping)


def _flytekit_message(value: Any, argument: str, full_name: str) -> Any:
    """A flytekit model (``to_flyte_idl()``) or the flyteidl message itself, checked to be ``full_name``."""
    try:
        message = value.to_flyte_idl() if hasattr(value, "to_flyte_idl") else value
    except Exception as error:
        raise FlyteInvalidInputException(f"{argument}={value!r} cannot be converted: {error}") from None
    if getattr(getattr(message, "DESCRIPTOR", None), "full_name", None) != full_name:
        raise FlyteInvalidInputException(
            f"{argument}={value!r} cannot be converted: expected flytekit's model of {full_name} or that message"
        )
    return message


def _flytekit_raw_output(value: Any, argument: str) -> Any:
    if isinstance(value, str):
        return value
    return _flytekit_message(value, argument, "flyteidl.admin.RawOutputDataConfig")


def _flytekit_security(value: Any, argument: str) -> Any:
    return _flytekit_message(value, argument, "flyteidl.core.SecurityContext")


def _flytekit_notifications(value: Any, argument: str) -> list[Any]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise FlyteInvalidInputException(f"{argument}={value!r} cannot be converted: expected a list of Notification")
    return [
        _flytekit_message(item, f"{argument}[{index}]", "flyteidl.admin.Notification")
        for index, item in enumerate(value)
    ]


def _unchanged(value: Any, argument: str) -> Any:
    return value  # checked by Options itself


_FROM_FLYTEKIT: dict[str, Callable[[Any, str], Any]] = {
    "labels": _flytekit_map,
    "annotations": _flytekit_map,
    "raw_output_data_config": _flytekit_raw_output,
    "security_context": _flytekit_security,
    "max_parallelism": _unchanged,
    "notifications": _flytekit_notifications,
    "disable_notifications": _unchanged,
    "overwrite_cache": _unchanged,
    "interruptible": _unchanged,
}


class _Plain:
    """Error messages of :meth:`Options.from_plain`, each after ``<source>:`` when a source is named."""

    def __init__(self, source: str | None) -> None:
        self.prefix = f"{source}: " if source else ""

    def error(self, message: str) -> FlyteInvalidInputException:
        return FlyteInvalidInputException(f"{self.prefix}{message}")

    def bad(self, argument: str, value: Any, expected: str) -> FlyteInvalidInputException:
        return self.error(f"{argument}={value!r} must be {expected}")


def _str_map(value: Any, argument: str, plain: _Plain) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise plain.bad(argument, value, "a mapping of strings to strings")
    return {key: str(item) for key, item in value.items()}


def _security_context(
    service_account: Any, iam_role: Any, oauth2_client: Any, secrets: Any, plain: _Plain
) -> security_pb2.SecurityContext | None:
    if not (service_account or iam_role or oauth2_client or secrets):
        return None
    from flyteidl.core import security_pb2

    context = security_pb2.SecurityContext()
    if service_account:
        if not isinstance(service_account, str):
            raise plain.bad("kubernetes_service_account", service_account, "a string")
        context.run_as.k8s_service_account = service_account
    if iam_role:
        if not isinstance(iam_role, str):
            raise plain.bad("iam_role", iam_role, "a string such as 'arn:aws:iam::123456789012:role/flyte'")
        context.run_as.iam_role = iam_role
    if oauth2_client:
        if not isinstance(oauth2_client, Mapping) or not isinstance(oauth2_client.get("client_id"), str):
            raise plain.bad(
                "oauth2_client", oauth2_client, "a dict with a string 'client_id' and a 'client_secret' reference"
            )
        unknown = sorted(set(oauth2_client) - {"client_id", "client_secret"})
        if unknown:
            raise plain.error(f"oauth2_client has unknown key(s) {', '.join(unknown)}")
        context.run_as.oauth2_client.client_id = oauth2_client["client_id"]
        reference = oauth2_client.get("client_secret")
        if reference is not None:
            context.run_as.oauth2_client.client_secret.CopyFrom(
                _secret(reference, "oauth2_client.client_secret", plain)
            )
    if secrets:
        if not isinstance(secrets, list):
            raise plain.bad("secrets", secrets, "a list of {'group': ..., 'key': ...} dicts")
        context.secrets.extend(_secret(item, f"secrets[{index}]", plain) for index, item in enumerate(secrets))
    return context


def _secret(value: Any, argument: str, plain: _Plain) -> security_pb2.Secret:
    # A Flyte secret reference names where the secret lives; it is not the secret's value.
    from flyteidl.core import security_pb2

    if not isinstance(value, Mapping) or not isinstance(value.get("group"), str) or not value.get("group"):
        raise plain.bad(
            argument, value, "a secret reference dict with a 'group' (and optionally 'key', 'group_version')"
        )
    unknown = sorted(set(value) - _SECRET_KEYS)
    if unknown:
        raise plain.bad(argument, value, f"a secret reference without the unknown key(s) {', '.join(unknown)}")
    mount = str(value.get("mount_requirement") or "ANY").upper()
    if mount not in _MOUNT:
        raise plain.bad(f"{argument}.mount_requirement", value.get("mount_requirement"), "ANY, ENV_VAR or FILE")
    return security_pb2.Secret(
        group=value["group"],
        key=str(value.get("key") or ""),
        group_version=str(value.get("group_version") or ""),
        mount_requirement=_MOUNT[mount],  # type: ignore[arg-type]
    )


def _notifications(value: Any, plain: _Plain) -> list[common_pb2.Notification] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise plain.bad("notifications", value, "a list of notification dicts")
    return [_notification(item, f"notifications[{index}]", plain) for index, item in enumerate(value)]


def _notification(item: Any, argument: str, plain: _Plain) -> common_pb2.Notification:
    from flyteidl.admin import common_pb2
    from flyteidl.core import execution_pb2

    if not isinstance(item, Mapping):
        raise plain.bad(argument, item, "a dict with 'phases' and one of 'email', 'slack', 'pager_duty'")
    keys: dict[str, str] = {_CHANNEL_ALIASES.get(str(key), str(key)): str(key) for key in item if key != "phases"}
    unknown = sorted(key for key in keys if key not in _CHANNELS)
    if unknown or len(keys) != 1:
        raise plain.bad(argument, item, "a dict with 'phases' and exactly one of 'email', 'slack', 'pager_duty'")
    channel, given_key = next(iter(keys.items()))
    recipients = item[given_key]
    emails = recipients.get("recipients_email") if isinstance(recipients, Mapping) else recipients
    if not isinstance(emails, list) or not emails or not all(isinstance(e, str) for e in emails):
        raise plain.bad(f"{argument}.{given_key}", recipients, "{'recipients_email': [addresses]}")
    phases = item.get("phases")
    if not isinstance(phases, list) or not phases:
        raise plain.bad(f"{argument}.phases", phases, "a non-empty list of workflow phases such as ['FAILED']")
    phase_names = [str(phase).upper() for phase in phases]
    if not set(phase_names) <= set(execution_pb2.WorkflowExecution.Phase.keys()):
        raise plain.bad(f"{argument}.phases", phases, "workflow phase names such as 'SUCCEEDED' or 'FAILED'")
    notification = common_pb2.Notification(phases=phase_names)
    getattr(notification, channel).CopyFrom(getattr(common_pb2, _CHANNELS[channel])(recipients_email=emails))
    return notification
