"""``demo.summarize`` as a Flyte 2 user writes it: the ``flyte`` SDK deploys it to the live folder's Flyte 2 sandbox.

Same name, version and interface as :mod:`flyte_admin_sandbox.v2.demo`'s (``example_flyte2`` runs it too), with a
prebuilt image: nothing is built. The sandbox runs it with the demo's behaviour
(:data:`~flyte_admin_sandbox.v2.demo.DEMO_FUNCTION`).
"""

from __future__ import annotations

import flyte
from flyte_admin_sandbox.v2 import demo

IMAGE = "ghcr.io/flyteorg/flyte:py3.11-v2.12.1"
env = flyte.TaskEnvironment(name="demo", image=IMAGE)


@env.task
async def summarize(numbers: list[int], label: str) -> tuple[int, str]:
    return demo.summarize(numbers, label)
