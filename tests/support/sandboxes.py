"""The one way the fixtures make a sandbox: ``new_sandbox(**options)``, used with ``with`` in each folder's fixture."""

from __future__ import annotations

from typing import Any

from flyte_admin_sandbox import FlyteSandbox


def new_sandbox(*, poll_interval: float | None = None, **options: Any) -> FlyteSandbox:
    """A sandbox on a free port (unless ``port`` is given), not yet started; ``with`` starts and stops it.

    ``poll_interval`` sets how often the engine looks at signals; the other options go to :class:`FlyteSandbox`.
    """
    options.setdefault("port", 0)
    sandbox = FlyteSandbox(**options)
    if poll_interval is not None:
        sandbox.engine.poll_interval = poll_interval
    return sandbox
