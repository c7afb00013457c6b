from __future__ import annotations

from tests.support.flytekit_peer import INSTALL_COMMAND, missing_peer

# The `flyte2_sandbox` fixture comes from the package's pytest plugin (entry point `pytest11`), as it does for users.


def require_flyte() -> None:
    """Skip when the flyte SDK (the test-time peer) is missing; fail instead under ``CI=true`` (see missing_peer)."""
    try:
        import flyte  # noqa: F401
    except ImportError:
        missing_peer("the Flyte 2 SDK tests", f"the flyte SDK is not installed; install it with: {INSTALL_COMMAND}")
