"""Execution-level settings (:class:`Options`) and how they land in an ``admin.ExecutionSpec``.

``Options`` mirrors flytekit's ``flytekit.Options`` field for field, and accepts plain Python values where flytekit
wants model objects (a dict for labels, a string prefix for the raw output location), so a DAG file can build one
without importing protobuf code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_flyte.exceptions import FlyteInvalidInputException

if TYPE_CHECKING:
    from flyteidl.admin import common_pb2, execution_pb2
    from flyteidl.core import security_pb2


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

    def merged_with(self, **overrides: Any) -> Options:
        """Return a copy where the given fields that are not ``None`` replace this object's values."""
        values = {name: getattr(self, name) for name in self.__dataclass_fields__}
        values.update({key: value for key, value in overrides.items() if value is not None})
        return Options(**values)

    def apply_to(self, spec: execution_pb2.ExecutionSpec) -> None:
        """Write these options into an ``admin.ExecutionSpec`` (in place).

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
        if self.disable_notifications:
            spec.disable_all = True
        else:
            spec.notifications.CopyFrom(execution_pb2.NotificationList(notifications=list(self.notifications or ())))
        if self.overwrite_cache is not None:
            spec.overwrite_cache = self.overwrite_cache
        if self.interruptible is not None:
            spec.interruptible.CopyFrom(wrappers_pb2.BoolValue(value=self.interruptible))
