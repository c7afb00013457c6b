"""A local Flyte Admin for tests, demos and offline development: :class:`FlyteSandbox`.

A distribution of its own (``flyte-admin-sandbox``), never imported by the provider: tests, the ``airflow-flyte``
command (``sandbox``, ``demo``) and the ``flyte_sandbox`` pytest fixture use it.

Names load on first use (PEP 562): importing the package, or its command line, loads no grpc. The command's
``--help`` stays instant, and the demo can set gRPC's log verbosity before grpc reads it at import.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flyte_admin_sandbox.faults import Fault, Faults
    from flyte_admin_sandbox.server import DEFAULT_PORT, FlyteSandbox

_LAZY = {
    "DEFAULT_PORT": "flyte_admin_sandbox.server",
    "FlyteSandbox": "flyte_admin_sandbox.server",
    "Fault": "flyte_admin_sandbox.faults",
    "Faults": "flyte_admin_sandbox.faults",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = ["DEFAULT_PORT", "Fault", "Faults", "FlyteSandbox"]
