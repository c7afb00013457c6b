"""Watching many executions with one ListExecutions per tick, as the triggers do, on the asyncio client."""

from __future__ import annotations

import asyncio
import time

from flyte_admin_sandbox import FlyteSandbox
from integration_support import (
    ALWAYS_FAILS,
    DOMAIN,
    GATED,
    PROJECT,
    TERMINAL,
    WAIT_LIMIT,
    Phase,
    count_calls,
    launch_spec,
    pipeline_inputs,
)

from airflow_provider_flyte.clients.aio import AsyncFlyteClient
from airflow_provider_flyte.clients.filters import ValueIn


async def test_one_list_call_per_tick_watches_every_execution(sandbox: FlyteSandbox) -> None:
    async with AsyncFlyteClient(sandbox.config) as client:
        succeeding = [f"watch-ok-{index}" for index in range(4)]
        failing = ["watch-fail-0", "watch-fail-1"]
        for name in succeeding:
            await client.create_execution(PROJECT, DOMAIN, name, launch_spec(), pipeline_inputs([1, 2]))
        for name in failing:
            await client.create_execution(PROJECT, DOMAIN, name, launch_spec(ALWAYS_FAILS), None)
        # Waits for a person at its gate: still running when the others are done, until this test aborts it.
        await client.create_execution(PROJECT, DOMAIN, "watch-gated", launch_spec(GATED), pipeline_inputs([1]))
        await client.create_execution(PROJECT, DOMAIN, "not-watched", launch_spec(), pipeline_inputs([1]))
        watched = [*succeeding, *failing, "watch-gated"]

        lists = count_calls(sandbox, "ListExecutions")
        gets = count_calls(sandbox, "GetExecution")
        watch = ValueIn("execution_name", watched)
        assert str(watch) == f"value_in(execution_name,{';'.join(watched)})"
        phases: dict[str, int] = {}
        ticks = 0
        terminated = False
        deadline = time.monotonic() + WAIT_LIMIT
        while not phases or any(phase not in TERMINAL for phase in phases.values()):
            assert time.monotonic() < deadline, f"executions still running: {phases}"
            # Admin hands out a next-page token whenever a page is full, so the page is larger than the watch list.
            executions, token = await client.list_executions_paginated(PROJECT, DOMAIN, limit=100, filters=watch)
            ticks += 1
            assert token == ""
            phases = {execution.id.name: execution.closure.phase for execution in executions}
            assert sorted(phases) == sorted(watched)
            others_done = all(phases[name] in TERMINAL for name in watched if name != "watch-gated")
            if others_done and not terminated:
                await client.terminate_execution(f"ex:{PROJECT}:{DOMAIN}:watch-gated", "watch test is done")
                terminated = True
            await asyncio.sleep(0.02)

    assert phases == {
        **dict.fromkeys(succeeding, Phase.SUCCEEDED),
        **dict.fromkeys(failing, Phase.FAILED),
        "watch-gated": Phase.ABORTED,
    }
    assert lists.hits == ticks
    assert gets.hits == 0
