"""Flyte 2 run phases (``flyteidl2.common.ActionPhase``), the terminal ones, and the console URL of a run.

A run's phase is the phase of its root action (``a0``). :class:`RunPhase` takes its members and numbers from the
IDL, without the ``ACTION_PHASE_`` prefix, so ``RunPhase(details.action.status.phase)`` names a phase.
"""

from __future__ import annotations

import enum
from urllib.parse import quote, urlsplit

from flyteidl2.common import phase_pb2

from airflow_provider_flyte.configuration import PlatformConfig


class RunPhase(enum.IntEnum):
    """The phase of a Flyte 2 run or action, numbered as ``flyteidl2.common.ActionPhase``."""

    UNSPECIFIED = phase_pb2.ACTION_PHASE_UNSPECIFIED
    QUEUED = phase_pb2.ACTION_PHASE_QUEUED
    WAITING_FOR_RESOURCES = phase_pb2.ACTION_PHASE_WAITING_FOR_RESOURCES
    INITIALIZING = phase_pb2.ACTION_PHASE_INITIALIZING
    RUNNING = phase_pb2.ACTION_PHASE_RUNNING
    SUCCEEDED = phase_pb2.ACTION_PHASE_SUCCEEDED
    FAILED = phase_pb2.ACTION_PHASE_FAILED
    ABORTED = phase_pb2.ACTION_PHASE_ABORTED
    TIMED_OUT = phase_pb2.ACTION_PHASE_TIMED_OUT
    PAUSED = phase_pb2.ACTION_PHASE_PAUSED
    RECOVERED = phase_pb2.ACTION_PHASE_RECOVERED

    @classmethod
    def of(cls, value: int) -> RunPhase:
        """The member for an ``ActionPhase`` number; ``UNSPECIFIED`` for a number this IDL does not know yet."""
        try:
            return cls(value)
        except ValueError:
            return cls.UNSPECIFIED

    @property
    def is_terminal(self) -> bool:
        """Whether the run can no longer change (see :data:`TERMINAL_PHASES`)."""
        return self in TERMINAL_PHASES


TERMINAL_PHASES = frozenset(
    {RunPhase.SUCCEEDED, RunPhase.FAILED, RunPhase.ABORTED, RunPhase.TIMED_OUT, RunPhase.RECOVERED}
)
"""Phases a run never leaves, as the ``flyte`` SDK counts them (``RECOVERED``: copied as-is from an earlier run,
success-equivalent). ``PAUSED`` is not terminal: the run waits for a condition (an approval) and resumes."""

SUCCESS_PHASES = frozenset({RunPhase.SUCCEEDED, RunPhase.RECOVERED})
"""Terminal phases whose run produced its outputs."""


def is_terminal(phase: int) -> bool:
    """Whether the ``ActionPhase`` number ``phase`` is terminal."""
    return RunPhase.of(phase) in TERMINAL_PHASES


def console_base_url(config: PlatformConfig) -> str:
    """The console's base URL: ``config.console_endpoint``, else derived from the endpoint as the SDK does.

    The SDK's ``Console`` uses ``http://`` for an insecure endpoint and ``https://`` otherwise, and maps the local
    ``localhost:8090`` API to the ``localhost:8080`` console.
    """
    if config.console_endpoint:
        return config.console_endpoint.rstrip("/")
    scheme = "http" if config.insecure else "https"
    host, _, port = config.endpoint.rpartition(":")
    if host == "localhost" and port == "8090":
        return f"{scheme}://localhost:8080"
    if port == "443" and not config.insecure:
        return f"{scheme}://{host}"
    return f"{scheme}://{config.endpoint}"


def run_url(config: PlatformConfig, project: str, domain: str, run_name: str) -> str:
    """The console page of a run, in the ``flyte`` SDK's ``Console.run_url`` form.

    ``{console}/v2/domain/{domain}/project/{project}/runs/{run_name}``.
    """
    base = console_base_url(config)
    if not urlsplit(base).scheme:
        base = f"https://{base}"
    parts = (quote(part, safe="") for part in (domain, project, run_name))
    domain_q, project_q, name_q = parts
    return f"{base}/v2/domain/{domain_q}/project/{project_q}/runs/{name_q}"
