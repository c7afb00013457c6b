"""The ``flyte`` SDK (a test-time peer) deploying to a Flyte 2 sandbox, as a Flyte 2 user would.

Callers check the SDK is installed first (``tests.sandbox_v2.conftest.require_flyte``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def deploy_with_the_sdk(sandbox: Any, env: Any, *, version: str, project: str, domain: str) -> None:
    """``flyte.init`` on ``sandbox``'s Connect endpoint, then ``flyte.deploy(env)`` with its prebuilt image.

    Args:
        sandbox: The running ``Flyte2Sandbox``.
        env: The ``flyte.TaskEnvironment`` to deploy (from a module under the repository root).
        version: The version to deploy its tasks as.
        project: The project to deploy to.
        domain: The domain to deploy to.
    """
    import flyte

    flyte.init(endpoint=sandbox.connect_endpoint, insecure=True, project=project, domain=domain, root_dir=ROOT)
    sdk_logger = logging.getLogger("flyte")
    level = sdk_logger.level
    sdk_logger.setLevel(logging.ERROR)  # the SDK warns that a checkout without a git remote has no remote URL
    try:
        flyte.deploy(env, version=version, copy_style="none")
    finally:
        sdk_logger.setLevel(level)
