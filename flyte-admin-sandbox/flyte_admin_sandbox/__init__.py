"""A local Flyte Admin for tests, demos and offline development: :class:`FlyteSandbox`.

A distribution of its own (``flyte-admin-sandbox``), never imported by the provider: tests, the ``airflow-flyte``
command (``sandbox``, ``demo``) and the ``flyte_sandbox`` pytest fixture use it.
"""

from __future__ import annotations

from flyte_admin_sandbox.faults import Fault, Faults
from flyte_admin_sandbox.server import DEFAULT_PORT, FlyteSandbox

__all__ = ["DEFAULT_PORT", "Fault", "Faults", "FlyteSandbox"]
