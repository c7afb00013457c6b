"""FlyteConsoleLink: the "Flyte Console" button of the provider's tasks, and how a task publishes its URL.

Every operator and sensor of the provider shows the button. A task pushes the page of its execution to XCom as soon
as the execution is known (:func:`push_console_link`), so the button works while the run is in progress.

Importing this module loads no grpc, protobuf or flyteidl code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator, Context
    from airflow.sdk.types import TaskInstanceKey

__all__ = ["FlyteConsoleLink", "push_console_link"]


class FlyteConsoleLink(BaseOperatorLink):
    """The "Flyte Console" button of a task: the page of the execution it launched or watches.

    The URL is pushed to XCom as soon as the execution is known, so the button works while the run is in progress.
    """

    name = "Flyte Console"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        """The URL pushed by the task, or an empty string before the execution is known."""
        from airflow.sdk.execution_time.xcom import XCom

        url = XCom.get_value(key=self.xcom_key, ti_key=ti_key)
        return str(url) if url else ""


def push_console_link(context: Context, url: str) -> None:
    """Publish ``url`` as the task's "Flyte Console" link right away.

    Args:
        context: The running task's Airflow context.
        url: The Flyte Console page to open.
    """
    context["ti"].xcom_push(key=FlyteConsoleLink().xcom_key, value=url)
