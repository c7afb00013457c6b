"""0.0.5's ``FlyteOperator``: launch a Flyte launch plan or task and return the execution name, without waiting.

It is the new :class:`airflow_provider_flyte.operators.flyte.FlyteOperator` with ``wait_for_completion=False``, taking
0.0.5's arguments and returning (XCom ``return_value``) the execution name as a string, which 0.0.5's
``FlyteSensor(execution_name=...)`` and other downstream tasks read. What it gains from the new operator: inputs
checked against the entity's interface, a "Flyte Console" link, an Airflow retry that finds the execution its earlier
try launched instead of launching a second one, and templated arguments.

Importing this module loads no grpc, protobuf or flyteidl module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_flyte.hooks._connection_form import DEFAULT_CONN_ID
from airflow_provider_flyte.operators.flyte import FlyteExecutionFailedError
from airflow_provider_flyte.operators.flyte import FlyteOperator as _FlyteOperator
from flyte_provider._legacy_values import check_oauth2_client, check_one_entity, legacy_notifications
from flyte_provider._migration import LegacyParameterError, check_passthrough_kwargs, warn_deprecated

if TYPE_CHECKING:
    from airflow.sdk import Context


NEW_IMPORT = "from airflow_provider_flyte.operators.flyte import FlyteOperator"
LEGACY_ARGUMENTS = (
    *("flyte_conn_id", "project", "domain", "launchplan_name", "task_name", "max_parallelism"),
    *("raw_output_data_config", "kubernetes_service_account", "oauth2_client", "labels", "annotations", "secrets"),
    *("notifications", "disable_notifications", "version", "inputs", "raw_data_prefix", "assumable_iam_role"),
)
"""The arguments this class takes itself: 0.0.5's, and two its example DAGs used (see :class:`FlyteOperator`)."""


class FlyteOperator(_FlyteOperator):
    """0.0.5's operator (deprecated): launch, return the execution name, do not wait.

    Wait with 0.0.5's ``FlyteSensor`` (or the new ``FlyteExecutionSensor``) on ``operator.output``. Arguments of
    the new operator that 0.0.5 did not have (``wait_for_completion``, ``deferrable``, ``workflow_name``...) are
    refused with a :class:`~flyte_provider.LegacyParameterError`: switch the import to use them.

    Args:
        flyte_conn_id: The ``flyte`` connection (0.0.5 had no default; ``flyte_default`` here).
        project: Project to launch in (default: the connection's ``project`` extra).
        domain: Domain to launch in (default: the connection's ``domain`` extra).
        launchplan_name: Launch plan to run (exactly one of ``launchplan_name`` and ``task_name``).
        task_name: Task to run.
        max_parallelism: Upper bound of task nodes running at once.
        raw_output_data_config: Where offloaded data goes, a prefix such as ``s3://bucket/prefix``.
        kubernetes_service_account: Service account the execution runs as.
        oauth2_client: ``{"client_id": ..., "client_secret": {"group": ..., "key": ...}}`` (a secret reference).
        labels: Kubernetes labels of the execution's resources.
        annotations: Kubernetes annotations of the execution's resources.
        secrets: Flyte secrets to expose: ``[{"group": ..., "key": ..., "group_version": ...}]``.
        notifications: ``[{"phases": [...], "email": {"recipients_email": [...]}}]``; phases as names or as
            flytekit's phase numbers; an entry with several channels becomes one notification per channel.
        disable_notifications: Silence every notification of this execution.
        version: Version of the launch plan or task; the latest when omitted.
        inputs: Input values by name.
        raw_data_prefix: Same as ``raw_output_data_config`` (flytekit's name; 0.0.5's example DAGs passed it,
            though 0.0.5 itself refused it).
        assumable_iam_role: IAM role the execution runs as (flytekit's name; 0.0.5's example DAGs passed it,
            though 0.0.5 itself refused it).
        **kwargs: Passed to ``BaseOperator`` (``task_id``, ``retries``...).
    """

    def __init__(
        self,
        *,
        flyte_conn_id: str = DEFAULT_CONN_ID,
        project: str | None = None,
        domain: str | None = None,
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
        raw_data_prefix: str | None = None,
        assumable_iam_role: str | None = None,
        **kwargs: Any,
    ) -> None:
        warn_deprecated(
            "flyte_provider.operators.flyte.FlyteOperator",
            NEW_IMPORT,
            ", which waits for the execution and returns a dict (execution_id, name, phase, console_url, outputs), "
            "or returns that dict right after launching with wait_for_completion=False",
            stacklevel=3,  # past Airflow's apply_defaults wrapper, to the DAG file
        )
        owner = f"FlyteOperator(task_id={kwargs.get('task_id')!r})"
        check_passthrough_kwargs(
            owner,
            kwargs,
            airflow_base=BaseOperator,
            legacy=LEGACY_ARGUMENTS,
            new_class=_FlyteOperator,
            new_import=NEW_IMPORT,
        )
        check_one_entity(owner, launchplan_name, task_name)
        check_oauth2_client(owner, oauth2_client)
        if raw_data_prefix is not None and raw_output_data_config is not None:
            raise LegacyParameterError(
                owner, "raw_data_prefix", raw_data_prefix, "is given with raw_output_data_config", "keep one of them"
            )
        super().__init__(
            flyte_conn_id=flyte_conn_id,
            project=project,
            domain=domain,
            launchplan_name=launchplan_name,
            task_name=task_name,
            version=version,
            inputs=inputs,
            labels=labels,
            annotations=annotations,
            max_parallelism=max_parallelism,
            raw_output_data_config=raw_output_data_config if raw_data_prefix is None else raw_data_prefix,
            kubernetes_service_account=kubernetes_service_account,
            iam_role=assumable_iam_role,
            oauth2_client=oauth2_client,
            secrets=secrets,
            notifications=legacy_notifications(owner, notifications),
            disable_notifications=disable_notifications,
            wait_for_completion=False,
            deferrable=False,
            on_retry="new",  # 0.0.5 launched every try afresh with the operator's inputs
            **kwargs,
        )
        self.assumable_iam_role = assumable_iam_role

    # 0.0.5's XCom is the execution name, not the new operator's dict: DAGs written for it read a string.
    def execute(self, context: Context) -> str:  # type: ignore[override]
        """Launch the execution (or find the one an earlier try launched) and return its name.

        As in 0.0.5, the outcome is the sensor's business: an execution that failed before its launch was even
        answered still makes this task succeed, with a warning.
        """
        try:
            name = str(super().execute(context)["name"])
        except FlyteExecutionFailedError as error:
            name = error.execution_id.rsplit(":", 1)[-1]
            self.log.warning("Execution %s already ended %s: %s", name, error.phase, error.flyte_message)
        self.log.info("Execution %s submitted", name)
        return name


__all__ = ["FlyteOperator"]
