"""0.0.5's ``FlyteHook``, now the new :class:`airflow_provider_flyte.hooks.flyte.FlyteHook` plus 0.0.5's methods.

The connection is read by the new hook: every extra 0.0.5 read keeps working (flytekit's storage and stats extras
are ignored with a warning; an unknown key fails naming it). Unlike 0.0.5, the connection is looked up on first
use rather than in the constructor, and one client serves every call instead of a new one per call.

Importing this module loads no grpc, protobuf or flyteidl module.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException

from airflow_provider_flyte._phases import WORKFLOW_PHASES
from airflow_provider_flyte.hooks._connection_form import DEFAULT_CONN_ID
from airflow_provider_flyte.hooks.flyte import FlyteHook as _FlyteHook
from flyte_provider._legacy_values import check_oauth2_client, check_one_entity, legacy_notifications
from flyte_provider._migration import warn_deprecated

if TYPE_CHECKING:
    from airflow.sdk import Connection

    from airflow_provider_flyte.remote import FlyteRemote

NEW_IMPORT = "from airflow_provider_flyte.hooks.flyte import FlyteHook"
_FAILED_PHASES = {"FAILED": "failed", "TIMED_OUT": "timed out", "ABORTED": "aborted"}


class FlyteHook(_FlyteHook):
    """0.0.5's hook (deprecated): the new hook with ``trigger_execution``, ``execution_status`` and ``terminate``.

    Args:
        flyte_conn_id: The ``flyte`` connection.
        project: Project of the executions (default: the connection's ``project`` extra).
        domain: Domain of the executions (default: the connection's ``domain`` extra).
        **kwargs: Passed to the new hook.

    Attributes:
        SUCCEEDED: Phase number of a succeeded execution (flytekit's ``WorkflowExecutionPhase.SUCCEEDED``).
        FAILED: Phase number of a failed execution.
        TIMED_OUT: Phase number of a timed-out execution.
        ABORTED: Phase number of an aborted execution.
    """

    SUCCEEDED = WORKFLOW_PHASES.index("SUCCEEDED")
    FAILED = WORKFLOW_PHASES.index("FAILED")
    TIMED_OUT = WORKFLOW_PHASES.index("TIMED_OUT")
    ABORTED = WORKFLOW_PHASES.index("ABORTED")

    def __init__(
        self,
        flyte_conn_id: str = DEFAULT_CONN_ID,
        project: str | None = None,
        domain: str | None = None,
        **kwargs: Any,
    ) -> None:
        warn_deprecated("flyte_provider.hooks.flyte.FlyteHook", NEW_IMPORT)
        super().__init__(flyte_conn_id, project=project, domain=domain, **kwargs)

    @cached_property
    def flyte_conn(self) -> Connection:
        """The Airflow connection (0.0.5 looked it up in the constructor)."""
        return self.get_connection(self.flyte_conn_id)

    def create_flyte_remote(self) -> FlyteRemote:
        """The hook's :class:`~airflow_provider_flyte.remote.FlyteRemote` (flytekit's interface, without flytekit).

        0.0.5 built a new flytekit ``FlyteRemote`` on every call; this one is created once and shared.
        """
        return self.get_remote()

    def trigger_execution(
        self,
        execution_name: str,
        launchplan_name: str | None = None,
        task_name: str | None = None,
        max_parallelism: int | None = None,
        raw_output_data_config: str | None = None,
        kubernetes_service_account: str | None = None,
        oauth2_client: dict[str, Any] | None = None,
        labels: dict[str, str] | None = None,
        annotations: dict[str, str] | None = None,
        secrets: list[dict[str, Any]] | None = None,
        notifications: list[dict[str, Any]] | None = None,
        disable_notifications: bool | None = None,
        version: str | None = None,
        inputs: dict[str, Any] | None = None,
    ) -> None:
        """Launch ``launchplan_name`` or ``task_name`` as execution ``execution_name``, without waiting.

        The arguments are 0.0.5's (see the 0.0.5 ``FlyteOperator``); an execution of that name that already exists
        is adopted rather than launched again.

        Raises:
            LegacyParameterError: for arguments 0.0.5 spelled in a way that cannot launch.
            AirflowException: ``Failed to fetch entity: ...`` or ``Failed to trigger execution: ...`` (as 0.0.5),
                caused by the typed Flyte error.
        """
        from airflow_provider_flyte.exceptions import FlyteEntityNotExistException
        from airflow_provider_flyte.remote.options import Options

        owner = "FlyteHook.trigger_execution"
        check_one_entity(owner, launchplan_name, task_name)
        check_oauth2_client(owner, oauth2_client)
        execution_id = self.execution_id(execution_name)
        project, domain = execution_id.project, execution_id.domain
        remote = self.get_remote()
        try:
            if launchplan_name:
                entity: Any = remote.fetch_launch_plan(project, domain, launchplan_name, version or None)
            else:
                entity = remote.fetch_task(project, domain, task_name, version or None)
        except FlyteEntityNotExistException as error:
            raise AirflowException(f"Failed to fetch entity: {error}") from error
        try:
            options = Options.from_plain(
                source=owner,
                labels=labels,
                annotations=annotations,
                max_parallelism=max_parallelism,
                raw_output_data_config=raw_output_data_config,
                kubernetes_service_account=kubernetes_service_account,
                oauth2_client=oauth2_client,
                secrets=secrets,
                notifications=legacy_notifications(owner, notifications),
                disable_notifications=disable_notifications,
            )
            remote.execute(
                entity,
                inputs=dict(inputs or {}),
                project=project,
                domain=domain,
                execution_name=execution_id.name,
                options=options,
            )
        except Exception as error:
            raise AirflowException(f"Failed to trigger execution: {error}") from error

    def execution_status(self, execution_name: str, remote: Any = None) -> bool:
        """Whether execution ``execution_name`` succeeded (``False`` while it runs).

        Args:
            execution_name: The execution (a name, or ``ex:project:domain:name``).
            remote: Accepted for 0.0.5's signature and not used: the hook's own client asks.

        Raises:
            AirflowException: when the execution failed, timed out or was aborted.
        """
        number = self.get_client().get_execution(self.execution_id(execution_name)).closure.phase
        phase = WORKFLOW_PHASES[number] if 0 <= number < len(WORKFLOW_PHASES) else str(number)
        if phase == "SUCCEEDED":
            return True
        if phase in _FAILED_PHASES:
            raise AirflowException(f"Execution {execution_name} {_FAILED_PHASES[phase]}")
        return False

    def terminate(self, execution_name: str, cause: str) -> None:
        """Abort execution ``execution_name`` with ``cause``."""
        self.get_client().terminate_execution(self.execution_id(execution_name), cause)


__all__ = ["FlyteHook"]
