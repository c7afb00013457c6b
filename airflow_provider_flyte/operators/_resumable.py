"""Airflow's durable-execution contract (``ResumableJobMixin``), through common.compat, on every supported Airflow.

Airflow 3.3 keeps the id of an operator's external job in ``task_state_store`` so a retry reconnects to it
(``ResumableJobMixin.execute_resumable``). common-compat 1.23+ exports the mixin on every Airflow (a stand-in that
always submits below 3.3). On Python 3.10 the newest common-compat that installs is older and has no such export;
there this module provides the same stand-in. Either way FlyteOperator's own deterministic names keep a retry from
launching twice, so nothing is lost where the store is missing.
"""

from __future__ import annotations

import warnings
from typing import Any

try:
    from airflow.providers.common.compat.sdk import ResumableJobMixin
except ImportError:  # common-compat < 1.23

    class ResumableJobMixin:  # type: ignore[no-redef]
        """Stand-in for Airflow < 3.3 without common-compat 1.23: submit, poll, result; no store."""

        external_id_key: str = "remote_job_id"

        def __init__(self, *, durable: bool | None = None, **kwargs: Any) -> None:
            if durable is not None:
                warnings.warn("`durable` has no effect on Airflow versions below 3.3.", UserWarning, stacklevel=2)
            super().__init__(**kwargs)
            self.durable = False

        def execute_resumable(self, context: Any) -> Any:
            """Submit the job, wait for it and return its result."""
            external_id = self.submit_job(context)  # type: ignore[attr-defined]
            self.poll_until_complete(external_id, context)  # type: ignore[attr-defined]
            return self.get_job_result(external_id, context)  # type: ignore[attr-defined]


__all__ = ["ResumableJobMixin"]
