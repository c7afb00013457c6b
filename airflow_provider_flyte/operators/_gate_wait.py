"""What a worker wait for a gate (FlyteSignalOperator, FlyteApprovalOperator) logs about the execution meanwhile.

A gate can be hours away: the wait logs each phase change of the execution and, between changes, a progress line at
least every :data:`~airflow_provider_flyte.progress.PROGRESS_EVERY` seconds (phase, time waited, nodes, and what is
still missing), as every other wait of the package does.

Importing this module loads no grpc, protobuf or flyteidl code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_flyte.progress import ProgressReport, node_counts

if TYPE_CHECKING:
    from airflow_provider_flyte.hooks.flyte import FlyteHook
    from airflow_provider_flyte.identifiers import WorkflowExecutionIdentifier
    from airflow_provider_flyte.waiting import WaitLogger


class ExecutionWatch:
    """The execution a gate wait is about: one look per poll, logging phase changes and progress lines.

    Args:
        hook: The task's hook (its client is used for every look).
        execution_id: The execution that should reach the gate.
        log: The task's logger.
        missing: What the progress lines say is still missing, e.g. ``"the gate of signal 'x' not reached yet"``.
    """

    def __init__(self, hook: FlyteHook, execution_id: WorkflowExecutionIdentifier, log: WaitLogger, missing: str):
        self._hook = hook
        self._execution_id = execution_id
        self._log = log
        self._missing = missing
        self._url = hook.console_url(execution_id)
        self._report = ProgressReport(f"Flyte execution {execution_id}", self._url)

    def final_phase(self) -> str | None:
        """Look at the execution (one ``GetExecution``): its final phase once it is done, else ``None``.

        Logs the phase when it changed; otherwise, once the wait has been silent for long enough, a progress line
        with the nodes' counts (one paged ``ListNodeExecutions``).
        """
        from airflow_provider_flyte.remote.executions import WORKFLOW_PHASES, WORKFLOW_TERMINAL_PHASES

        client = self._hook.get_client()
        code = client.get_execution(self._execution_id).closure.phase
        phase, done = WORKFLOW_PHASES[code], code in WORKFLOW_TERMINAL_PHASES
        if self._report.changed(phase):
            self._log.info("Flyte execution %s is %s (%s)", self._execution_id, phase, self._url)
        elif self._report.due() and not done:
            nodes = node_counts(client, self._execution_id, self._log)
            self._log.info("%s", self._report.line(phase, nodes, self._missing))
        return phase if done else None


__all__ = ["ExecutionWatch"]
