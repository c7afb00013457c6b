"""A local Flyte Admin for tests, demos and offline development: :class:`FlyteSandbox`.

Never imported by the provider's Airflow-facing modules; tests, the CLI and the pytest plugin use it.
"""

from __future__ import annotations

from airflow_provider_flyte.sandbox.faults import Fault, Faults
from airflow_provider_flyte.sandbox.server import DEFAULT_PORT, FlyteSandbox

__all__ = ["DEFAULT_PORT", "Fault", "Faults", "FlyteSandbox"]
