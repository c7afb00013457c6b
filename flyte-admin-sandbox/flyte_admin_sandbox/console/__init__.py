"""A small read-only Flyte Console served by the sandbox's HTTP side under ``/console``.

Server-rendered HTML with a little CSS, no JavaScript: execution pages (phase, inputs and outputs, error or abort
cause, nodes, pending signals, a timeline from GetExecutionMetrics), node and task attempt pages, lists of
executions, launch plans, tasks and workflows, and a page per entity version. Every link
:func:`airflow_provider_flyte.remote.console.generate_console_url` builds from ``FlyteSandbox.config`` opens one
of them. Data comes from the sandbox's own Admin services, called in-process (:mod:`.data`).
"""

from __future__ import annotations

from flyte_admin_sandbox.console.html import CONSOLE_PREFIX
from flyte_admin_sandbox.console.routes import Console

__all__ = ["CONSOLE_PREFIX", "Console"]
