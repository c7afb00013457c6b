"""Flyte 2 SDK tasks deployed to the Flyte 2 sandbox by tests/sandbox_v2 (with a prebuilt image: nothing is built)."""

from __future__ import annotations

import flyte

env = flyte.TaskEnvironment(name="sbx", image="ghcr.io/flyteorg/flyte:py3.11-v2.12.1")


@env.task
async def add(x: int, y: int = 2) -> int:
    return x + y


@env.task
async def greet(name: str) -> str:
    return f"hello {name}"


@env.task
async def stuck(seconds: float) -> str:
    return "never"


def shout(name: str) -> str:
    return f"HELLO {name.upper()}"
