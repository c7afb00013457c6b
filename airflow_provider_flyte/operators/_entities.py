"""Which Flyte entity a FlyteOperator runs: exactly one launch plan, task or workflow, by name or identifier string.

Nothing here imports Airflow, grpc or flyteidl; identifiers and exceptions load when first used, since operators
check their choice when a DAG file is parsed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_flyte._lazy import LazyModule

if TYPE_CHECKING:
    from airflow_provider_flyte import exceptions, identifiers
    from airflow_provider_flyte.identifiers import Identifier, ResourceType
    from airflow_provider_flyte.remote import FlyteRemote
else:
    exceptions = LazyModule("airflow_provider_flyte.exceptions")
    identifiers = LazyModule("airflow_provider_flyte.identifiers")

__all__ = ["EntityChoice"]


class EntityChoice:
    """The entity arguments of a FlyteOperator (as given, or as rendered when the task runs).

    A plain class rather than a dataclass: operators build one when a DAG file is parsed, and generating a
    dataclass's methods would cost that parse more than everything else here.

    Attributes:
        task_id: The task, for messages.
        launchplan_name: Launch plan name or ``lp:`` identifier.
        task_name: Task name or ``tsk:`` identifier.
        workflow_name: Workflow name or ``wf:`` identifier.
        version: Version of a bare name; ``None`` (or empty) for the latest.
    """

    __slots__ = ("launchplan_name", "task_id", "task_name", "version", "workflow_name")

    def __init__(
        self,
        task_id: str,
        launchplan_name: str | None,
        task_name: str | None,
        workflow_name: str | None,
        version: str | None = None,
    ) -> None:
        self.task_id = task_id
        self.launchplan_name = launchplan_name
        self.task_name = task_name
        self.workflow_name = workflow_name
        self.version = version

    def check_one(self) -> None:
        """Check that exactly one of the three names is given.

        Raises:
            FlyteInvalidInputException: naming the task and the arguments given.
        """
        arguments = (
            ("launchplan_name", self.launchplan_name),
            ("task_name", self.task_name),
            ("workflow_name", self.workflow_name),
        )
        given = [name for name, value in arguments if value]
        if len(given) != 1:
            detail = f"got {', '.join(given)}" if given else "got none"
            raise exceptions.FlyteInvalidInputException(
                f"{self.task_id}: give exactly one of launchplan_name, task_name or workflow_name ({detail})"
            )

    @property
    def resource_type(self) -> ResourceType:
        """What kind of entity is chosen."""
        kinds = identifiers.ResourceType
        if self.launchplan_name:
            return kinds.LAUNCH_PLAN
        return kinds.TASK if self.task_name else kinds.WORKFLOW

    def identifier(self) -> Identifier | None:
        """The entity as an identifier when it was given as ``lp:``/``tsk:``/``wf:`` string, else ``None``.

        Raises:
            FlyteInvalidInputException: when the identifier is of another kind than its argument.
        """
        text = self.launchplan_name or self.task_name or self.workflow_name or ""
        if ":" not in text:
            return None
        identifier = identifiers.Identifier.from_python_std(text)
        expected = self.resource_type
        if identifier.resource_type != expected:
            raise exceptions.FlyteInvalidInputException(
                f"{self.task_id}: {text!r} is a {identifier.resource_type.name.lower()} identifier, but was given "
                f"as a {expected.name.lower()}"
            )
        return identifier

    def fetch(self, remote: FlyteRemote, project: str, domain: str) -> Any:
        """Fetch the entity: by its identifier, or by name (at ``version``) in ``project``/``domain``."""
        identifier = self.identifier()
        if identifier is not None:
            args: tuple[str, str, str, str | None] = (
                identifier.project,
                identifier.domain,
                identifier.name,
                identifier.version,
            )
        else:
            name = self.launchplan_name or self.task_name or self.workflow_name
            args = (project, domain, str(name), self.version or None)
        if self.launchplan_name:
            return remote.fetch_launch_plan(*args)
        if self.task_name:
            return remote.fetch_task(*args)
        return remote.fetch_workflow(*args)
