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
        """The URL pushed by the task, or an empty string when it never had an execution.

        Airflow calls this on the worker as the task ends and stores the answer as the link. The URL pushed in this
        process is answered from memory; otherwise (a deferred task resumed, a sensor rescheduled) it is read back.
        """
        recorded = operator.__dict__.get(_RECORDED_URLS, {}).get((ti_key.run_id, ti_key.map_index))
        if recorded:
            return str(recorded)
        return _pushed_url(self.xcom_key, ti_key)


_RECORDED_URLS = "_flyte_console_urls"
"""Attribute of the task object: the URLs pushed in this process, by (run id, map index)."""


def _pushed_url(key: str, ti_key: TaskInstanceKey) -> str:
    """The URL an earlier process of this task instance pushed, or ``""``.

    A task that failed before launching pushed nothing. Asking for one missing XCom makes Airflow log an error ("XCom
    not found"), so the task's links are listed first, which answers an empty list without complaint.
    """
    from airflow.sdk.execution_time.xcom import XCom

    pushed = XCom.get_all(key=key, dag_id=ti_key.dag_id, task_id=ti_key.task_id, run_id=ti_key.run_id)
    if not pushed:
        return ""
    if ti_key.map_index < 0:
        return str(pushed[0] or "")
    # A mapped task: the listing has every map index's link; read this instance's own.
    url = XCom.get_value(key=key, ti_key=ti_key)
    return str(url) if url else ""


def push_console_link(context: Context, url: str) -> None:
    """Publish ``url`` as the task's "Flyte Console" link right away.

    Args:
        context: The running task's Airflow context.
        url: The Flyte Console page to open.
    """
    ti = context["ti"]
    ti.xcom_push(key=FlyteConsoleLink().xcom_key, value=url)
    task = context.get("task")
    if task is not None:  # remembered for get_link, which Airflow calls as the task ends
        task.__dict__.setdefault(_RECORDED_URLS, {})[(ti.run_id, ti.map_index)] = url
