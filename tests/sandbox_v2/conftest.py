from __future__ import annotations

import os

import pytest

# The `flyte2_sandbox` fixture comes from the package's pytest plugin (entry point `pytest11`), as it does for users.

INSTALL_COMMAND = "uv sync --group peer"


def require_flyte() -> None:
    """Skip when the flyte SDK (the test-time peer) is missing; fail instead under ``CI=true``."""
    try:
        import flyte  # noqa: F401
    except ImportError:
        message = f"the flyte SDK is not installed; install it with: {INSTALL_COMMAND}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the Flyte 2 SDK tests must run in CI, but {message}")
        pytest.skip(message)
